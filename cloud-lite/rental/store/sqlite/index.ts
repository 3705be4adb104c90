import type Database from 'better-sqlite3';
import type {
  AuditRecord,
  ChargeRecord,
  ContentRecord,
  DepositEntryRecord,
  DiskTypeRecord,
  ExtensionRecord,
  FlagRecord,
  KioskSiteRecord,
  MissingDiskRecord,
  OrderRecord,
  PaymentRecord,
  PendingRegistrationRecord,
  RentalRecord,
  RentalRepos,
  ReservationRecord,
  SandboxLedgerEntry,
  SandboxPaymentRecord,
  SessionRecord,
  UserRecord,
} from '../types.js';
import { table } from './table.js';

const marks = (n: number) => new Array(n).fill('?').join(', ');

/**
 * The rental repositories over one better-sqlite3 connection (the hub store's).
 * `moneyWritten` is called on every write to a money table (payments, deposits, charges,
 * orders, reservations, rentals, the sandbox provider's books): the store syncs such commits.
 */
export function makeRentalRepos(
  db: Database.Database,
  moneyWritten: () => void = () => {},
): RentalRepos {
  const onWrite = moneyWritten;
  const users = table<UserRecord>(db, { name: 'users', key: 'id' });
  const sessions = table<SessionRecord>(db, { name: 'sessions', key: 'tokenHash' });
  const pending = table<PendingRegistrationRecord>(db, {
    name: 'pending_registrations',
    key: 'tokenHash',
  });
  const deposits = table<DepositEntryRecord>(db, { name: 'deposit_entries', key: 'id', onWrite });
  const payments = table<PaymentRecord>(db, {
    name: 'payments',
    key: 'id',
    bool: ['captureAfterAuth'],
    onWrite,
  });
  const content = table<ContentRecord>(db, { name: 'content_packages', key: 'id' });
  const diskTypes = table<DiskTypeRecord>(db, {
    name: 'disk_types',
    key: 'id',
    json: ['kioskIds'],
  });
  const sites = table<KioskSiteRecord>(db, { name: 'kiosk_sites', key: 'kioskId' });
  const orders = table<OrderRecord>(db, {
    name: 'orders',
    key: 'id',
    json: ['steps'],
    bool: ['writeProtect'],
    onWrite,
  });
  const reservations = table<ReservationRecord>(db, {
    name: 'reservations',
    key: 'id',
    json: ['progress', 'fees'],
    bool: ['writeProtect'],
    onWrite,
  });
  const rentals = table<RentalRecord>(db, { name: 'rentals', key: 'id', onWrite });
  const charges = table<ChargeRecord>(db, { name: 'charges', key: 'id', onWrite });
  const extensions = table<ExtensionRecord>(db, {
    name: 'rental_extensions',
    key: 'id',
    onWrite,
  });
  const audit = table<AuditRecord>(db, { name: 'audit_log', key: 'id', json: ['details'] });
  const flags = table<FlagRecord>(db, { name: 'reconciliation_flags', key: 'id' });
  const missing = table<MissingDiskRecord>(db, { name: 'missing_disks', key: 'id' });
  const sbPayments = table<SandboxPaymentRecord>(db, {
    name: 'sandbox_payments',
    key: 'id',
    onWrite,
  });
  const sbLedger = table<SandboxLedgerEntry>(db, { name: 'sandbox_ledger', key: 'id', onWrite });

  return {
    users: {
      ...users,
      async findByLogin(login) {
        return users.one('SELECT * FROM users WHERE email = ? OR phone = ?', login, login);
      },
      async count() {
        return (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
      },
    },
    sessions: {
      insert: sessions.insert,
      get: sessions.get,
      async revoke(tokenHash, at) {
        db.prepare('UPDATE sessions SET revoked_at = ? WHERE token_hash = ?').run(at, tokenHash);
      },
    },
    loginFailures: {
      async add(key, at) {
        db.prepare('INSERT INTO login_failures (key, at) VALUES (?, ?)').run(key, at);
      },
      async since(key, since) {
        return (
          db
            .prepare('SELECT at FROM login_failures WHERE key = ? AND at >= ? ORDER BY at')
            .all(key, since) as { at: string }[]
        ).map((r) => r.at);
      },
      async clear(key) {
        db.prepare('DELETE FROM login_failures WHERE key = ?').run(key);
      },
      async removeOne(key, at) {
        db.prepare(
          'DELETE FROM login_failures WHERE rowid = (SELECT rowid FROM login_failures WHERE key = ? AND at = ? LIMIT 1)',
        ).run(key, at);
      },
      async prune(before, key) {
        if (key === undefined) db.prepare('DELETE FROM login_failures WHERE at < ?').run(before);
        else db.prepare('DELETE FROM login_failures WHERE key = ? AND at < ?').run(key, before);
      },
    },
    pendingRegistrations: {
      insert: pending.insert,
      get: pending.get,
      async remove(tokenHash) {
        db.prepare('DELETE FROM pending_registrations WHERE token_hash = ?').run(tokenHash);
      },
      async removeExpired(at) {
        db.prepare('DELETE FROM pending_registrations WHERE expires_at < ?').run(at);
      },
    },
    deposits: {
      insert: deposits.insert,
      async balance(userId) {
        return (
          db
            .prepare(
              'SELECT coalesce(sum(amount_minor), 0) AS n FROM deposit_entries WHERE user_id = ?',
            )
            .get(userId) as { n: number }
        ).n;
      },
      async list(userId) {
        return deposits.all(
          'SELECT * FROM deposit_entries WHERE user_id = ? ORDER BY at, rowid',
          userId,
        );
      },
    },
    payments: {
      ...payments,
      async findByProviderRef(provider, ref) {
        return payments.one(
          'SELECT * FROM payments WHERE provider = ? AND provider_ref = ?',
          provider,
          ref,
        );
      },
      async listByState(states, updatedBefore) {
        return payments.all(
          `SELECT * FROM payments WHERE state IN (${marks(states.length)}) AND updated_at <= ? ORDER BY created_at`,
          ...states,
          updatedBefore,
        );
      },
      async listByRef(refId) {
        return payments.all(
          'SELECT * FROM payments WHERE ref_id = ? ORDER BY created_at, rowid',
          refId,
        );
      },
      async listByUser(userId) {
        return payments.all(
          'SELECT * FROM payments WHERE user_id = ? ORDER BY created_at, rowid',
          userId,
        );
      },
      async listChildren(parentId) {
        return payments.all(
          'SELECT * FROM payments WHERE parent_id = ? ORDER BY created_at, rowid',
          parentId,
        );
      },
    },
    webhookEvents: {
      async insertIfNew(provider, eventId, at) {
        return (
          db
            .prepare(
              'INSERT OR IGNORE INTO webhook_events (provider, event_id, received_at) VALUES (?, ?, ?)',
            )
            .run(provider, eventId, at).changes === 1
        );
      },
    },
    content: {
      ...content,
      async list() {
        return content.all('SELECT * FROM content_packages ORDER BY title, id');
      },
    },
    diskTypes: {
      ...diskTypes,
      async list() {
        return diskTypes.all('SELECT * FROM disk_types ORDER BY capacity_bytes, id');
      },
    },
    sites: {
      async upsert(s) {
        db.prepare(
          `INSERT INTO kiosk_sites (kiosk_id, name, address, lat, lng) VALUES (@kioskId, @name, @address, @lat, @lng)
           ON CONFLICT (kiosk_id) DO UPDATE SET name = excluded.name, address = excluded.address, lat = excluded.lat, lng = excluded.lng`,
        ).run(s);
      },
      get: sites.get,
      async list() {
        return sites.all('SELECT * FROM kiosk_sites ORDER BY kiosk_id');
      },
    },
    orders: {
      ...orders,
      async findByIdempotencyKey(userId, key) {
        return orders.one(
          'SELECT * FROM orders WHERE user_id = ? AND idempotency_key = ?',
          userId,
          key,
        );
      },
      async findByCommand(commandId) {
        return orders.one('SELECT * FROM orders WHERE command_id = ?', commandId);
      },
      async listByUser(userId, limit) {
        return orders.all(
          'SELECT * FROM orders WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
          userId,
          limit,
        );
      },
      async listByStates(states, limit) {
        return orders.all(
          `SELECT * FROM orders WHERE state IN (${marks(states.length)}) ORDER BY created_at LIMIT ?`,
          ...states,
          limit,
        );
      },
      async listRecent(limit) {
        return orders.all(
          'SELECT * FROM orders ORDER BY created_at DESC, rowid DESC LIMIT ?',
          limit,
        );
      },
      async findLastAtSlot(kioskId, slot) {
        return orders.one(
          'SELECT * FROM orders WHERE kiosk_id = ? AND slot = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
          kioskId,
          slot,
        );
      },
    },
    missingDisks: {
      async insertIfNew(rec) {
        if (await missing.one('SELECT id FROM missing_disks WHERE event_id = ?', rec.eventId))
          return false;
        await missing.insert(rec);
        return true;
      },
      async listOpen(limit) {
        return missing.all(
          'SELECT * FROM missing_disks WHERE cleared_at IS NULL ORDER BY flagged_at, rowid LIMIT ?',
          limit,
        );
      },
      async clearDisk(diskId, at, by) {
        return db
          .prepare(
            'UPDATE missing_disks SET cleared_at = ?, cleared_by = ? WHERE disk_id = ? AND cleared_at IS NULL',
          )
          .run(at, by, diskId).changes;
      },
    },
    reservations: {
      ...reservations,
      async findByIdempotencyKey(userId, key) {
        return reservations.one(
          'SELECT * FROM reservations WHERE user_id = ? AND idempotency_key = ?',
          userId,
          key,
        );
      },
      async listByUser(userId, limit) {
        return reservations.all(
          'SELECT * FROM reservations WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
          userId,
          limit,
        );
      },
      async listByStates(states, limit) {
        return reservations.all(
          `SELECT * FROM reservations WHERE state IN (${marks(states.length)}) ORDER BY created_at LIMIT ?`,
          ...states,
          limit,
        );
      },
      async listRecent(limit) {
        return reservations.all(
          'SELECT * FROM reservations ORDER BY created_at DESC, rowid DESC LIMIT ?',
          limit,
        );
      },
    },
    rentals: {
      ...rentals,
      async findByOrder(orderId) {
        return rentals.one('SELECT * FROM rentals WHERE order_id = ?', orderId);
      },
      async findUnreturnedByDisk(diskId) {
        return rentals.one(
          "SELECT * FROM rentals WHERE disk_id = ? AND state IN ('open', 'overdue', 'lost') ORDER BY started_at DESC LIMIT 1",
          diskId,
        );
      },
      async listByUser(userId) {
        return rentals.all(
          'SELECT * FROM rentals WHERE user_id = ? ORDER BY started_at DESC',
          userId,
        );
      },
      async listByStates(states) {
        return rentals.all(
          `SELECT * FROM rentals WHERE state IN (${marks(states.length)}) ORDER BY due_at`,
          ...states,
        );
      },
    },
    extensions: {
      ...extensions,
      async findByPayment(paymentId) {
        return extensions.one('SELECT * FROM rental_extensions WHERE payment_id = ?', paymentId);
      },
      async findByIdempotencyKey(userId, key) {
        return extensions.one(
          'SELECT * FROM rental_extensions WHERE user_id = ? AND idempotency_key = ?',
          userId,
          key,
        );
      },
      async listByRental(rentalId) {
        return extensions.all(
          'SELECT * FROM rental_extensions WHERE rental_id = ? ORDER BY created_at, rowid',
          rentalId,
        );
      },
    },
    charges: {
      insert: charges.insert,
      async listByRental(rentalId) {
        return charges.all(
          'SELECT * FROM charges WHERE rental_id = ? ORDER BY at, rowid',
          rentalId,
        );
      },
    },
    audit: {
      insert: audit.insert,
      async list(limit) {
        return audit.all('SELECT * FROM audit_log ORDER BY id DESC LIMIT ?', limit);
      },
    },
    flags: {
      async raise(kind, subject, message, at) {
        db.prepare(
          `INSERT INTO reconciliation_flags (kind, subject, message, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (kind, subject) DO UPDATE SET message = excluded.message,
             created_at = CASE WHEN resolved_at IS NULL THEN created_at ELSE excluded.created_at END,
             resolved_at = NULL`,
        ).run(kind, subject, message, at);
      },
      async resolve(kind, subject, at) {
        db.prepare(
          'UPDATE reconciliation_flags SET resolved_at = ? WHERE kind = ? AND subject = ? AND resolved_at IS NULL',
        ).run(at, kind, subject);
      },
      async listOpen() {
        return flags.all(
          'SELECT * FROM reconciliation_flags WHERE resolved_at IS NULL ORDER BY id',
        );
      },
    },
    sandbox: {
      insertPayment: sbPayments.insert,
      getPayment: sbPayments.get,
      async findByReference(reference) {
        return sbPayments.one(
          'SELECT * FROM sandbox_payments WHERE reference = ? ORDER BY created_at DESC LIMIT 1',
          reference,
        );
      },
      updatePayment: sbPayments.update,
      async listPayments() {
        return sbPayments.all('SELECT * FROM sandbox_payments ORDER BY created_at, rowid');
      },
      async addLedger(e) {
        await sbLedger.insert(e as SandboxLedgerEntry);
      },
      async ledger() {
        return sbLedger.all('SELECT * FROM sandbox_ledger ORDER BY id');
      },
      async insertCard(token, number, last4) {
        db.prepare('INSERT INTO sandbox_cards (token, number, last4) VALUES (?, ?, ?)').run(
          token,
          number,
          last4,
        );
      },
      async getCard(token) {
        return db.prepare('SELECT * FROM sandbox_cards WHERE token = ?').get(token) as
          | { token: string; number: string; last4: string }
          | undefined;
      },
      async getIdempotent(key) {
        const r = db
          .prepare('SELECT operation, result FROM sandbox_idempotency WHERE key = ?')
          .get(key) as { operation: string; result: string } | undefined;
        return r && { operation: r.operation, result: JSON.parse(r.result) };
      },
      async putIdempotent(key, operation, result) {
        db.prepare('INSERT INTO sandbox_idempotency (key, operation, result) VALUES (?, ?, ?)').run(
          key,
          operation,
          JSON.stringify(result),
        );
      },
    },
  };
}
