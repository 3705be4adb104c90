import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { StoppedError, StoreServerError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { runAfterCommit } from '../after-commit.js';
import type { Repos, Store, Tx, TxContext, TxIsolation, TxOptions } from '../types.js';
import { pgAlertRepo } from './alert-repo.js';
import { pgAuditRepo } from './audit-repo.js';
import { pgChargeRepo } from './charge-repo.js';
import { pgCommandRepo } from './command-repo.js';
import { pgContentRepo } from './content-repo.js';
import { pgDepositRepo } from './deposit-repo.js';
import { pgDiagnosticsRepo } from './diagnostics-repo.js';
import { pgDiskTypeRepo } from './disk-type-repo.js';
import { pgEnrolmentTokenRepo } from './enrolment-token-repo.js';
import { pgEventRepo } from './event-repo.js';
import { pgExtensionRepo } from './extension-repo.js';
import { pgFlagRepo } from './flag-repo.js';
import { pgKioskRepo } from './kiosk-repo.js';
import { pgKioskSiteRepo } from './kiosk-site-repo.js';
import { pgLoginFailureRepo } from './login-failure-repo.js';
import { pgMigrate } from './migrate.js';
import { pgMigrations } from './migrations/index.js';
import { pgMissingDiskRepo } from './missing-disk-repo.js';
import { pgNotificationRepo, pgPasswordResetRepo } from './notification-repo.js';
import { pgOrderRepo } from './order-repo.js';
import { pgPaymentRepo } from './payment-repo.js';
import { pgPendingRegistrationRepo } from './pending-registration-repo.js';
import { pgRemoteConfigRepo } from './remote-config-repo.js';
import { pgRentalRepo } from './rental-repo.js';
import { pgRentalSettingsRepo } from './rental-settings-repo.js';
import { pgReservationRepo } from './reservation-repo.js';
import { pgRolloutRepo } from './rollout-repo.js';
import { pgSandboxRepo } from './sandbox-repo.js';
import { pgSessionRepo } from './session-repo.js';
import { pgSlotRepo } from './slot-repo.js';
import { type Sql, sqlOn } from './sql.js';
import { pgUserRepo } from './user-repo.js';
import { pgWebhookEventRepo } from './webhook-event-repo.js';

/** The oldest PostgreSQL the hub runs on (server_version_num): 15, the version CI tests. */
export const MIN_SERVER_VERSION = 150000;

/** How often a transaction is run again after a serialisation failure or a deadlock. */
const MAX_ATTEMPTS = 12;

/** SQLSTATEs after which the whole transaction is run again: serialization_failure, deadlock_detected. */
const RETRYABLE = new Set(['40001', '40P01']);

/**
 * A serialisation failure or a deadlock; or the server out of predicate-lock slots
 * (53200 with the hint to raise max_pred_locks_per_transaction): serialisable transactions
 * keep their SIREAD locks until every transaction that overlapped them ends, so a storm of
 * them (thousands of kiosks sending Inventory after a hub process died) can fill the shared
 * table for a moment; retried like the others, with the same backoff (docs/postgres.md).
 */
export function retryable(err: unknown): boolean {
  const e = err as { code?: unknown; hint?: unknown };
  if (typeof e?.code !== 'string') return false;
  if (RETRYABLE.has(e.code)) return true;
  return e.code === '53200' && typeof e.hint === 'string' && e.hint.includes('max_pred_locks');
}

/** The BEGIN of each isolation that has a transaction. */
const BEGIN: Record<Exclude<TxIsolation, 'autocommit'>, string> = {
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
  'read committed': 'BEGIN ISOLATION LEVEL READ COMMITTED',
};

/** Every repository over one pooled connection (built once per connection: reposOn). */
function makeRepos(sql: Sql): Repos {
  return {
    kiosks: pgKioskRepo(sql),
    enrolmentTokens: pgEnrolmentTokenRepo(sql),
    slots: pgSlotRepo(sql),
    commands: pgCommandRepo(sql),
    events: pgEventRepo(sql),
    users: pgUserRepo(sql),
    sessions: pgSessionRepo(sql),
    loginFailures: pgLoginFailureRepo(sql),
    pendingRegistrations: pgPendingRegistrationRepo(sql),
    deposits: pgDepositRepo(sql),
    payments: pgPaymentRepo(sql),
    webhookEvents: pgWebhookEventRepo(sql),
    sandbox: pgSandboxRepo(sql),
    content: pgContentRepo(sql),
    diskTypes: pgDiskTypeRepo(sql),
    sites: pgKioskSiteRepo(sql),
    orders: pgOrderRepo(sql),
    reservations: pgReservationRepo(sql),
    rentals: pgRentalRepo(sql),
    extensions: pgExtensionRepo(sql),
    charges: pgChargeRepo(sql),
    missingDisks: pgMissingDiskRepo(sql),
    rentalSettings: pgRentalSettingsRepo(sql),
    audit: pgAuditRepo(sql),
    flags: pgFlagRepo(sql),
    alerts: pgAlertRepo(sql),
    notifications: pgNotificationRepo(sql),
    passwordResets: pgPasswordResetRepo(sql),
    rollouts: pgRolloutRepo(sql),
    diagnostics: pgDiagnosticsRepo(sql),
    remoteConfig: pgRemoteConfigRepo(sql),
  };
}

/**
 * A transaction's `tx`: the connection's repositories (its prototype, shared by every
 * transaction on that connection) and this transaction's afterCommit.
 */
function txOn(repos: Repos, ctx: TxContext): Tx {
  const tx = Object.create(repos) as Tx;
  tx.afterCommit = ctx.afterCommit;
  return tx;
}

/** BIGINT columns and count(*) come back as numbers (refused beyond 2^53, never rounded). */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${text} is too large for the hub`);
  return n;
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8 && format !== 'binary') return parseInt8;
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** Refuses a server older than MIN_SERVER_VERSION (`server_version_num`, e.g. 150004). */
export function checkServerVersion(versionNum: number, where: string): void {
  if (versionNum >= MIN_SERVER_VERSION) return;
  throw new StoreServerError(
    'ESTORETOOOLD',
    `PostgreSQL at ${where} is version ${Math.floor(versionNum / 10000)}; cloud-lite needs ${MIN_SERVER_VERSION / 10000} or newer`,
  );
}

/** `host:port/database` of a connection URL, for messages (never the password). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? (u.hostname || 'localhost');
    return `${host}:${u.port || 5432}/${decodeURIComponent(u.pathname.slice(1)) || '(default)'}`;
  } catch {
    return '(unparsable URL)';
  }
}

export interface PostgresStoreOptions {
  /** Connections this process keeps at most (default 10). */
  poolSize?: number;
  /** Gets after-commit callbacks that failed and idle connections that broke. */
  logger?: Pick<Logger, 'error'>;
  /**
   * false: the kiosks' bookkeeping (TxIsolation 'autocommit' and 'read committed') commits
   * without waiting for the WAL's flush to the disk (`synchronous_commit = off` for it), as
   * SQLite's non-money commits do at synchronous=NORMAL; every serialisable transaction
   * (money, stock, events) still waits, and its flush makes every earlier commit durable
   * too. A crash of the PostgreSQL server (not of a hub) may lose the last fraction of a
   * second of bookkeeping: a command's sent/answered mark (the command is sent again and the
   * kiosk's inbox answers it from its record), a heartbeat's time, an online mark or a Boot
   * (the kiosk's next connection writes them again), a command recorded by sendCommand.
   * Default false (docs/postgres.md, "Durability"); true: every commit waits.
   */
  syncBookkeeping?: boolean;
}

/**
 * The PostgreSQL store (`pg`'s Pool): transactions run concurrently, each on its own pooled
 * connection, by default at SERIALIZABLE isolation. PostgreSQL aborts any transaction whose
 * outcome would differ from some one-at-a-time order (40001) and the store runs it again,
 * whole, with a short random back-off (deadlocks, 40P01, too). So every read that decides a
 * write (a slot claimed, an idempotency key replayed, a payment captured once, a limit
 * counted) holds across hub processes and connections exactly as under SQLite's one writer,
 * without the in-process mutex (store/mutex.ts serialises inside one process only). The
 * kiosks' high-volume bookkeeping (Boot, online/offline, heartbeats, commands sent and
 * answered) asks for READ COMMITTED or autocommit instead (TxIsolation in ../types.ts):
 * no predicate locks, fewer round trips.
 *
 * Consequence for callers: `fn` may run more than once; work outside the database goes to
 * `afterCommit` (the store's contract already asks this), which runs once, after the commit
 * that counted. Money, stock and events (serialisable transactions) wait for the WAL's flush
 * (synchronous_commit as the server has it, on by default); the kiosks' bookkeeping does not
 * (`syncBookkeeping`, default false), as the SQLite store syncs money commits only. With
 * `syncBookkeeping: true` every commit waits.
 */
export class PostgresStore implements Store {
  private closed = false;
  private readonly running = new Set<Promise<unknown>>();
  private readonly counts = { commits: 0, synced: 0, retries: 0, roundTrips: 0 };
  /** Counts one round trip to the server (commitStats().roundTrips). */
  private readonly counted = () => {
    this.counts.roundTrips++;
  };
  /**
   * Each pooled connection's repositories: built at its first transaction (about 30 objects
   * and their closures, ~0.2 ms) and shared by the later ones, which differ only in their
   * afterCommit (txOn). A repository keeps no state but its connection.
   */
  private readonly reposOf = new WeakMap<pg.PoolClient, Repos>();
  /** Pooled connections whose session has synchronous_commit off (syncBookkeeping false). */
  private readonly unsynced = new WeakSet<pg.PoolClient>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Pick<Logger, 'error'> | undefined,
    /** The schema versions before and after `open` migrated. */
    readonly migrated: { from: number; to: number },
    private readonly syncBookkeeping: boolean,
  ) {}

  /**
   * Connects, checks the server (StoreServerError ESTOREUNREACHABLE / ESTORETOOOLD, one line
   * naming host:port/database) and migrates (StoreVersionError for a newer schema).
   */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      types,
    });
    const log = opts.logger;
    pool.on('error', (err) => {
      // An idle connection broke (server restart, network): the pool drops it and opens another.
      if (log) log.error({ err }, 'idle PostgreSQL connection failed');
    });
    // pg-pool takes its own 'error' listener off a connection it hands out: one that breaks
    // while a transaction holds it between two statements (a server restart, a terminated
    // backend) would emit an unhandled 'error' and end the process. Its next statement fails
    // instead, and the connection is dropped when it is released with that error.
    pool.on('connect', (client) => {
      client.on('error', (err) => {
        if (log) log.error({ err }, 'PostgreSQL connection failed');
      });
    });
    const where = describeUrl(url);
    let migrated: { from: number; to: number };
    try {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw new StoreServerError(
          'ESTOREUNREACHABLE',
          `cannot reach PostgreSQL at ${where}: ${(err as Error).message}; check store.url and that the server is running`,
        );
      }
      try {
        const { rows } = await client.query<{ v: string }>(
          "SELECT current_setting('server_version_num') AS v",
        );
        checkServerVersion(Number(rows[0]?.v), where);
        migrated = await pgMigrate(client, pgMigrations);
      } finally {
        client.release();
      }
      return new PostgresStore(pool, log, migrated, opts.syncBookkeeping ?? false);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Transactions (and autocommit calls) committed, how many of them waited for the WAL's
   * flush (all with syncBookkeeping true), how many runs were retried after a
   * serialisation failure or a deadlock, and the round trips to the server so far (every
   * statement, BEGIN, COMMIT, ROLLBACK and SET; store.read's too): bench:hub prints them per
   * command, test/cloud-lite/cluster/several-hubs.test.ts counts a command's.
   */
  commitStats(): { commits: number; synced: number; retries: number; roundTrips: number } {
    return { ...this.counts };
  }

  /** The pool now: connections open, idle, and callers waiting for one (bench:hub samples it). */
  poolStats(): { total: number; idle: number; waiting: number } {
    return {
      total: this.pool.totalCount,
      idle: this.pool.idleCount,
      waiting: this.pool.waitingCount,
    };
  }

  /** The repositories of `client` (reposOf). */
  private reposOn(client: pg.PoolClient): Repos {
    let repos = this.reposOf.get(client);
    if (!repos) {
      repos = makeRepos(sqlOn(client, this.counted));
      this.reposOf.set(client, repos);
    }
    return repos;
  }

  transaction<T>(fn: (tx: Tx, ctx: TxContext) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new StoppedError('the store is closed'));
    const isolation = opts.isolation ?? 'serializable';
    const p =
      isolation === 'autocommit'
        ? this.autocommit(fn)
        : this.run(fn, BEGIN[isolation], isolation === 'serializable' || this.syncBookkeeping);
    this.running.add(p);
    const forget = () => this.running.delete(p);
    p.then(forget, forget);
    return p;
  }

  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoppedError('the store is closed'));
    const p = (async () => {
      const client = await this.pool.connect();
      let out: T;
      try {
        out = await fn(this.reposOn(client));
      } catch (err) {
        // An error without a SQLSTATE may be a broken connection: the pool drops it.
        client.release((err as { code?: unknown }).code ? undefined : (err as Error));
        throw err;
      }
      client.release();
      return out;
    })();
    this.running.add(p);
    const forget = () => this.running.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** `fn`'s statements, each committed on its own (TxIsolation 'autocommit'); never re-run. */
  private async autocommit<T>(fn: (tx: Tx, ctx: TxContext) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const after: Array<() => unknown> = [];
    let out: T;
    try {
      if (!this.syncBookkeeping && !this.unsynced.has(client)) {
        // Once per connection; its transactions turn it back on (run()).
        this.counted();
        await client.query('SET synchronous_commit = off');
        this.unsynced.add(client);
      }
      const ctx: TxContext = { afterCommit: (f) => void after.push(f) };
      out = await fn(txOn(this.reposOn(client), ctx), ctx);
    } catch (err) {
      // An error without a SQLSTATE may be a broken connection: the pool drops it.
      client.release((err as { code?: unknown }).code ? undefined : (err as Error));
      throw err;
    }
    client.release();
    this.counts.commits++;
    if (this.syncBookkeeping) this.counts.synced++;
    for (const f of after) runAfterCommit(f, this.logger);
    return out;
  }

  /** `sync`: its COMMIT waits for the WAL's flush (else only when the session's default says so). */
  private async run<T>(
    fn: (tx: Tx, ctx: TxContext) => Promise<T>,
    begin: string,
    sync: boolean,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      const after: Array<() => unknown> = [];
      let broken: Error | undefined;
      try {
        // The session's default (on, or off after autocommit() with syncBookkeeping false)
        // overridden for this transaction where it differs: one round trip, the simple
        // query protocol runs both statements.
        const unsynced = this.unsynced.has(client);
        this.counted();
        await client.query(
          sync === !unsynced
            ? begin
            : `${begin}; SET LOCAL synchronous_commit = ${sync ? 'on' : 'off'}`,
        );
        const ctx: TxContext = { afterCommit: (f) => void after.push(f) };
        const tx = txOn(this.reposOn(client), ctx);
        const out = await fn(tx, ctx);
        this.counted();
        const res = await client.query('COMMIT');
        // COMMIT of a transaction a failed statement aborted answers ROLLBACK, not an error.
        if (res.command !== 'COMMIT')
          throw Object.assign(
            new Error('the transaction was rolled back: one of its statements failed'),
            { code: '25P02' },
          );
        client.release();
        this.counts.commits++;
        if (sync) this.counts.synced++;
        for (const f of after) runAfterCommit(f, this.logger);
        return out;
      } catch (err) {
        try {
          this.counted();
          await client.query('ROLLBACK');
        } catch (e) {
          broken = e as Error;
        }
        client.release(broken);
        if (retryable(err) && attempt < MAX_ATTEMPTS && !this.closed) {
          this.counts.retries++;
          await sleep(Math.random() * Math.min(2 ** attempt, 100));
          continue;
        }
        throw err;
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.running]);
    await this.pool.end();
  }
}
