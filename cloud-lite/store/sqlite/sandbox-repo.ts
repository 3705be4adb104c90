import type Database from 'better-sqlite3';
import type {
  SandboxLedgerEntry,
  SandboxPaymentRecord,
  SandboxRepo,
} from '../repos/sandbox-repo.js';
import { table } from './table.js';

/** The sandbox provider's books; its payments and ledger count as money tables (`onWrite`). */
export function sqliteSandboxRepo(db: Database.Database, onWrite?: () => void): SandboxRepo {
  const payments = table<SandboxPaymentRecord>(db, {
    name: 'sandbox_payments',
    key: 'id',
    onWrite,
  });
  const ledger = table<SandboxLedgerEntry, number>(db, {
    name: 'sandbox_ledger',
    key: 'id',
    onWrite,
  });
  return {
    insertPayment: payments.insert,
    getPayment: payments.get,
    async findByReference(reference) {
      return payments.one(
        'SELECT * FROM sandbox_payments WHERE reference = ? ORDER BY created_at DESC LIMIT 1',
        reference,
      );
    },
    updatePayment: payments.keyed.update,
    async listPayments() {
      return payments.all('SELECT * FROM sandbox_payments ORDER BY created_at, rowid');
    },
    async addLedger(e) {
      await ledger.insert(e as SandboxLedgerEntry);
    },
    async ledger() {
      return ledger.all('SELECT * FROM sandbox_ledger ORDER BY id');
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
  };
}
