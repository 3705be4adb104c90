import { closeSync, fsyncSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { migrate } from '../../../common/sqlite-migrate.js';
import { StoppedError, StoreVersionError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { runAfterCommit } from '../after-commit.js';
import { AsyncMutex } from '../mutex.js';
import type { Repos, Store, Tx, TxContext, TxOptions } from '../types.js';
import { sqliteAlertRepo } from './alert-repo.js';
import { sqliteAuditRepo } from './audit-repo.js';
import { sqliteChargeRepo } from './charge-repo.js';
import { sqliteCommandRepo } from './command-repo.js';
import { sqliteContentRepo } from './content-repo.js';
import { sqliteDepositRepo } from './deposit-repo.js';
import { sqliteDiagnosticsRepo } from './diagnostics-repo.js';
import { sqliteDiskTypeRepo } from './disk-type-repo.js';
import { sqliteEnrolmentTokenRepo } from './enrolment-token-repo.js';
import { sqliteEventRepo } from './event-repo.js';
import { sqliteExtensionRepo } from './extension-repo.js';
import { sqliteFlagRepo } from './flag-repo.js';
import { sqliteKioskRepo } from './kiosk-repo.js';
import { sqliteKioskSiteRepo } from './kiosk-site-repo.js';
import { sqliteLoginFailureRepo } from './login-failure-repo.js';
import { migrations } from './migrations/index.js';
import { sqliteMissingDiskRepo } from './missing-disk-repo.js';
import { sqliteNotificationRepo, sqlitePasswordResetRepo } from './notification-repo.js';
import { sqliteOrderRepo } from './order-repo.js';
import { sqlitePaymentRepo } from './payment-repo.js';
import { sqlitePendingRegistrationRepo } from './pending-registration-repo.js';
import { sqliteRemoteConfigRepo } from './remote-config-repo.js';
import { sqliteRentalRepo } from './rental-repo.js';
import { sqliteRentalSettingsRepo } from './rental-settings-repo.js';
import { sqliteReservationRepo } from './reservation-repo.js';
import { sqliteRolloutRepo } from './rollout-repo.js';
import { sqliteSandboxRepo } from './sandbox-repo.js';
import { sqliteSessionRepo } from './session-repo.js';
import { sqliteSlotRepo } from './slot-repo.js';
import { sqliteUserRepo } from './user-repo.js';
import { sqliteWebhookEventRepo } from './webhook-event-repo.js';

/**
 * Every repository over one connection. `moneyWritten` is called on every write to a money
 * table (payments, deposits, charges, orders, reservations, rentals, extensions, the sandbox
 * provider's books): the store syncs such commits.
 */
function makeRepos(db: Database.Database, moneyWritten: () => void): Repos {
  return {
    kiosks: sqliteKioskRepo(db),
    enrolmentTokens: sqliteEnrolmentTokenRepo(db),
    slots: sqliteSlotRepo(db),
    commands: sqliteCommandRepo(db),
    events: sqliteEventRepo(db),
    users: sqliteUserRepo(db),
    sessions: sqliteSessionRepo(db),
    loginFailures: sqliteLoginFailureRepo(db),
    pendingRegistrations: sqlitePendingRegistrationRepo(db),
    deposits: sqliteDepositRepo(db, moneyWritten),
    payments: sqlitePaymentRepo(db, moneyWritten),
    webhookEvents: sqliteWebhookEventRepo(db),
    sandbox: sqliteSandboxRepo(db, moneyWritten),
    content: sqliteContentRepo(db),
    diskTypes: sqliteDiskTypeRepo(db),
    sites: sqliteKioskSiteRepo(db),
    orders: sqliteOrderRepo(db, moneyWritten),
    reservations: sqliteReservationRepo(db, moneyWritten),
    rentals: sqliteRentalRepo(db, moneyWritten),
    extensions: sqliteExtensionRepo(db, moneyWritten),
    charges: sqliteChargeRepo(db, moneyWritten),
    missingDisks: sqliteMissingDiskRepo(db),
    rentalSettings: sqliteRentalSettingsRepo(db, moneyWritten),
    audit: sqliteAuditRepo(db),
    flags: sqliteFlagRepo(db),
    alerts: sqliteAlertRepo(db),
    notifications: sqliteNotificationRepo(db),
    passwordResets: sqlitePasswordResetRepo(db),
    rollouts: sqliteRolloutRepo(db),
    diagnostics: sqliteDiagnosticsRepo(db),
    remoteConfig: sqliteRemoteConfigRepo(db),
  };
}

interface QueuedTx {
  fn: (tx: Tx, ctx: TxContext) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
  /** Its after-commit callbacks, run once its group committed. */
  after: Array<() => unknown>;
  /** Asked for isolation 'autocommit': its statements stand alone (no savepoint in a group). */
  alone: boolean;
}

/** Most transactions committed together. */
const MAX_GROUP = 256;

/**
 * The SQLite store (better-sqlite3, WAL): one connection; transactions are serialized
 * through an async mutex and run as BEGIN IMMEDIATE ... COMMIT / ROLLBACK.
 *
 * Group commit: transactions queued in one turn of the event loop, or while a group runs, are
 * run one after another inside one BEGIN IMMEDIATE ... COMMIT, each in its own SAVEPOINT (a
 * failing one rolls back to its savepoint only). Every caller's promise settles after the shared COMMIT, so "resolved"
 * still means "committed"; if the COMMIT fails, every transaction of the group rejects.
 * A transaction that asked for isolation 'autocommit' gets no savepoint: its statements stand
 * alone (TxIsolation), each undone by SQLite alone when it fails, the earlier ones kept, as
 * PostgreSQL keeps them (most of the kiosks' bookkeeping: a command recorded, sent, answered).
 *
 * After commit: each transaction's `afterCommit` callbacks run once the group's COMMIT (and
 * the money sync) succeeded, in order, before that transaction's promise resolves; a
 * transaction rolled back to its savepoint, or a group whose COMMIT failed, runs none.
 *
 * Durability: the connection runs `synchronous=NORMAL` (a commit is in the WAL, not yet
 * forced to the disk: a power cut may lose the last ones), except that a commit that wrote
 * a money table (payments, deposits, charges, orders, reservations, rentals) is made
 * durable as `synchronous=FULL` makes it, before any caller hears of it: the WAL is
 * fsynced after the COMMIT. So an order, a payment or a deposit the hub has answered
 * survives a power cut, while the command and event traffic keeps NORMAL's speed
 * (`npm run bench:hub` prints both). SQLite cannot switch `synchronous` inside a
 * transaction, and which tables a group writes is known only once it ran.
 */
export class SqliteStore implements Store {
  private readonly mutex = new AsyncMutex();
  private readonly queue: QueuedTx[] = [];
  private closed = false;
  /** A transaction of the running group wrote a money table. */
  private moneyInGroup = false;
  /** Reads running outside a transaction (read). */
  private reading = 0;
  /** A group waits for those reads to finish before it begins; reads queue meanwhile. */
  private groupWaiting = false;
  private readsDone: (() => void) | undefined;
  private readonly counts = { commits: 0, synced: 0 };
  /** Transaction control, prepared once (db.exec would parse the SQL on every call). */
  private readonly ctl: Record<
    'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo',
    Database.Statement
  >;

  private readonly repos: Repos;

  private constructor(
    private readonly db: Database.Database,
    private readonly moneySync: boolean,
    private readonly logger: Pick<Logger, 'error'> | undefined,
    /** The schema versions before and after `open` migrated. */
    readonly migrated: { from: number; to: number },
  ) {
    this.repos = makeRepos(db, () => {
      this.moneyInGroup = true;
    });
    this.ctl = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT tx'),
      release: db.prepare('RELEASE tx'),
      rollbackTo: db.prepare('ROLLBACK TO tx'),
    };
  }

  /**
   * Opens (creating if needed) and migrates the database. Throws StoreVersionError for a
   * newer one. `moneySync: false` turns the money commits' fsync off: for benchmarks
   * measuring what it costs, never for a hub. `logger` gets after-commit callbacks that
   * failed (default: written to stderr).
   */
  static open(
    path: string,
    opts: { moneySync?: boolean; logger?: Pick<Logger, 'error'> } = {},
  ): SqliteStore {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      const migrated = migrate(db, migrations, {
        program: 'cloud-lite',
        newer: (found, known) => new StoreVersionError(found, known),
      });
      return new SqliteStore(db, opts.moneySync ?? true, opts.logger, migrated);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Commits so far, and how many of them were synced to the disk (they wrote money tables). */
  commitStats(): { commits: number; synced: number } {
    return { ...this.counts };
  }

  /** Makes the WAL, and with it every commit so far, durable (what synchronous=FULL does at a commit). */
  private syncWal(): void {
    const fd = openSync(`${this.db.name}-wal`, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  transaction<T>(fn: (tx: Tx, ctx: TxContext) => Promise<T>, opts?: TxOptions): Promise<T> {
    if (this.closed) return Promise.reject(new StoppedError('the store is closed'));
    const alone = opts?.isolation === 'autocommit';
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject, after: [], alone } as QueuedTx);
      // The group starts once this turn of the event loop has queued what it will (every
      // socket message it read, every timer it ran): one COMMIT for all of them.
      if (this.queue.length === 1) setImmediate(this.startGroup);
    });
  }

  private readonly startGroup = () => void this.mutex.run(() => this.runGroup());

  /**
   * `fn`'s statements run on their own, with no BEGIN IMMEDIATE and COMMIT around them (each
   * is its own read transaction, seeing what was committed), unless a transaction is open on
   * the connection (then `fn` waits its turn as a transaction: its statements would see the
   * open group's uncommitted writes). A group waits to BEGIN until the reads running outside
   * one have finished (they are a few statements, no waiting on anything else: `fn` must not
   * write, see Store.read).
   */
  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoppedError('the store is closed'));
    if (this.db.inTransaction || this.groupWaiting) return this.transaction((tx) => fn(tx));
    this.reading++;
    let out: Promise<T>;
    try {
      out = fn(this.repos);
    } catch (err) {
      out = Promise.reject(err);
    }
    return out.finally(() => {
      if (--this.reading === 0) this.readsDone?.();
    });
  }

  /** Resolves once no read runs outside a transaction (see read); new ones queue meanwhile. */
  private async readsFinished(): Promise<void> {
    if (this.reading === 0) return;
    this.groupWaiting = true;
    await new Promise<void>((resolve) => {
      this.readsDone = resolve;
    });
    this.readsDone = undefined;
    this.groupWaiting = false;
  }

  private async runGroup(): Promise<void> {
    // No await between the last check and BEGIN: a read that started in such a gap would run
    // its first statement outside the group and the next ones inside it (seeing writes that
    // may yet roll back).
    while (this.reading > 0) await this.readsFinished();
    const group = this.queue.splice(0, MAX_GROUP);
    if (group.length === 0) return;
    if (this.queue.length > 0) this.startGroup();
    if (!this.db.open) {
      for (const item of group) item.reject(new StoppedError('the store is closed'));
      return;
    }
    const done: Array<[QueuedTx, unknown]> = [];
    const { ctl } = this;
    this.moneyInGroup = false;
    ctl.begin.run();
    if (group.length === 1) {
      // Alone in its group: no savepoint needed, a failure rolls the whole transaction back;
      // but an 'autocommit' one keeps the statements before the failing one (SQLite undid only
      // that statement), as it does beside others and as PostgreSQL does.
      const item = group[0]!;
      try {
        done.push([item, await this.run(item)]);
      } catch (err) {
        if (this.db.inTransaction) {
          if (!item.alone) ctl.rollback.run();
          else {
            try {
              ctl.commit.run();
              this.counts.commits++;
            } catch {
              if (this.db.inTransaction) ctl.rollback.run();
            }
          }
        }
        item.reject(err);
        return;
      }
    } else {
      for (const item of group) {
        if (!item.alone) ctl.savepoint.run();
        try {
          const out = await this.run(item);
          if (!item.alone) ctl.release.run();
          done.push([item, out]);
        } catch (err) {
          item.reject(err);
          if (!this.db.inTransaction) {
            // SQLite rolled the whole transaction back (a full disk, an I/O error): the
            // transactions run so far in it are lost; the rest of the group runs in a new one.
            for (const [lost] of done) lost.reject(err);
            done.length = 0;
            ctl.begin.run();
          } else if (!item.alone) {
            ctl.rollbackTo.run();
            ctl.release.run();
          }
        }
      }
    }
    try {
      ctl.commit.run();
    } catch (err) {
      if (this.db.inTransaction) ctl.rollback.run();
      for (const [item] of done) item.reject(err);
      return;
    }
    this.counts.commits++;
    if (this.moneyInGroup && this.moneySync) {
      try {
        this.syncWal();
        this.counts.synced++;
      } catch (err) {
        // Committed, but the disk did not confirm it: nobody may act as if it were durable.
        const e = new Error(
          `committed, but syncing the database to the disk failed: ${(err as Error).message}`,
        );
        for (const [item] of done) item.reject(e);
        return;
      }
    }
    for (const [item, out] of done) {
      for (const fn of item.after) runAfterCommit(fn, this.logger);
      item.resolve(out);
    }
  }

  /** Runs one transaction's function with its own `tx` (the repositories and its queue). */
  private run(item: QueuedTx): Promise<unknown> {
    const ctx: TxContext = { afterCommit: (fn) => void item.after.push(fn) };
    // The repositories by prototype, not copied: one property per transaction, not 31.
    const tx = Object.create(this.repos) as Tx;
    tx.afterCommit = ctx.afterCommit;
    return item.fn(tx, ctx);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Transactions queued before this have their group started at the next setImmediate.
    do {
      await new Promise((resolve) => setImmediate(resolve));
      await this.mutex.idle();
    } while (this.queue.length > 0);
    await this.readsFinished();
    this.db.close();
  }
}
