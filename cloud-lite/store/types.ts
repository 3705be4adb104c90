/**
 * The hub's store: one repository per table group, each an asynchronous interface in
 * `repos/` so that a PostgreSQL implementation can stand beside the SQLite one (`sqlite/`)
 * without touching domain code. Every access runs inside `store.transaction(async (tx) => ...)`;
 * `tx` holds every repository, so one domain operation's writes (an event row and its
 * handlers' effects, an order and its payment) commit or roll back together.
 *
 * Adding a repository:
 *  1. declare its records and interface in `repos/<name>.ts`, and add it to `Repos` below;
 *  2. implement it for SQLite in `sqlite/<name>-repo.ts` and add it in `sqlite/sqlite-store.ts`,
 *     and for PostgreSQL in `postgres/<name>-repo.ts` and `postgres/postgres-store.ts`;
 *  3. add a migration `sqlite/migrations/NNN-name.ts` (next number) and list it in
 *     `sqlite/migrations/index.ts`, and its twin (same number and name) in
 *     `postgres/migrations/`. Never edit a shipped migration.
 *  4. add its behaviour to the contract suite (test/cloud-lite/store/contract/), which runs
 *     against both stores.
 * Each store's specifics stay in its folder.
 */

import type { AlertRepo } from './repos/alert-repo.js';
import type { AuditRepo } from './repos/audit-repo.js';
import type { ChargeRepo } from './repos/charge-repo.js';
import type { CommandRepo } from './repos/command-repo.js';
import type { ContentRepo } from './repos/content-repo.js';
import type { DepositRepo } from './repos/deposit-repo.js';
import type { DiagnosticsRepo } from './repos/diagnostics-repo.js';
import type { DiskTypeRepo } from './repos/disk-type-repo.js';
import type { EnrolmentTokenRepo } from './repos/enrolment-token-repo.js';
import type { EventRepo } from './repos/event-repo.js';
import type { ExtensionRepo } from './repos/extension-repo.js';
import type { FlagRepo } from './repos/flag-repo.js';
import type { KioskRepo } from './repos/kiosk-repo.js';
import type { KioskSiteRepo } from './repos/kiosk-site-repo.js';
import type { LoginFailureRepo } from './repos/login-failure-repo.js';
import type { MissingDiskRepo } from './repos/missing-disk-repo.js';
import type { NotificationRepo, PasswordResetRepo } from './repos/notification-repo.js';
import type { OrderRepo } from './repos/order-repo.js';
import type { PaymentRepo } from './repos/payment-repo.js';
import type { PendingRegistrationRepo } from './repos/pending-registration-repo.js';
import type { RemoteConfigRepo } from './repos/remote-config-repo.js';
import type { RentalRepo } from './repos/rental-repo.js';
import type { RentalSettingsRepo } from './repos/rental-settings-repo.js';
import type { ReservationRepo } from './repos/reservation-repo.js';
import type { RolloutRepo } from './repos/rollout-repo.js';
import type { SandboxRepo } from './repos/sandbox-repo.js';
import type { SessionRepo } from './repos/session-repo.js';
import type { SlotRepo } from './repos/slot-repo.js';
import type { UserRepo } from './repos/user-repo.js';
import type { WebhookEventRepo } from './repos/webhook-event-repo.js';

export type * from './repos/alert-repo.js';
export type * from './repos/audit-repo.js';
export type * from './repos/charge-repo.js';
export type * from './repos/command-repo.js';
export type * from './repos/content-repo.js';
export type * from './repos/deposit-repo.js';
export type * from './repos/diagnostics-repo.js';
export type * from './repos/disk-type-repo.js';
export type * from './repos/enrolment-token-repo.js';
export type * from './repos/event-repo.js';
export type * from './repos/extension-repo.js';
export type * from './repos/flag-repo.js';
export type * from './repos/kiosk-repo.js';
export type * from './repos/kiosk-site-repo.js';
export type * from './repos/login-failure-repo.js';
export type * from './repos/missing-disk-repo.js';
export type * from './repos/notification-repo.js';
export type * from './repos/order-repo.js';
export type * from './repos/payment-repo.js';
export type * from './repos/pending-registration-repo.js';
export * from './repos/remote-config-repo.js';
export type * from './repos/rental-repo.js';
export type * from './repos/rental-settings-repo.js';
export type * from './repos/reservation-repo.js';
export type * from './repos/rollout-repo.js';
export type * from './repos/sandbox-repo.js';
export type * from './repos/session-repo.js';
export type * from './repos/slot-repo.js';
export type * from './repos/table.js';
export type * from './repos/user-repo.js';
export { ROLES } from './repos/user-repo.js';
export type * from './repos/webhook-event-repo.js';

/** Every repository, bound to one transaction. */
export interface Repos {
  // The kiosks and their link (hub/, registry/).
  kiosks: KioskRepo;
  enrolmentTokens: EnrolmentTokenRepo;
  slots: SlotRepo;
  commands: CommandRepo;
  events: EventRepo;
  // Accounts (rental/accounts/, rental/auth/).
  users: UserRepo;
  sessions: SessionRepo;
  loginFailures: LoginFailureRepo;
  pendingRegistrations: PendingRegistrationRepo;
  // Money (rental/payments/, rental/billing/).
  deposits: DepositRepo;
  payments: PaymentRepo;
  webhookEvents: WebhookEventRepo;
  sandbox: SandboxRepo;
  // The catalog (rental/catalog/, content/).
  content: ContentRepo;
  diskTypes: DiskTypeRepo;
  sites: KioskSiteRepo;
  // Renting (rental/orders/, rental/reservations/, rental/rentals/).
  orders: OrderRepo;
  reservations: ReservationRepo;
  rentals: RentalRepo;
  extensions: ExtensionRepo;
  charges: ChargeRepo;
  missingDisks: MissingDiskRepo;
  /** The operator's rental terms (rental/settings/). */
  rentalSettings: RentalSettingsRepo;
  // For operators.
  audit: AuditRepo;
  flags: FlagRepo;
  alerts: AlertRepo;
  // Renter e-mails (notifications/).
  notifications: NotificationRepo;
  passwordResets: PasswordResetRepo;
  // Software updates (updates/).
  rollouts: RolloutRepo;
  diagnostics: DiagnosticsRepo;
  // Remote configuration (registry/remote-config.ts).
  remoteConfig: RemoteConfigRepo;
}

/** What a transaction offers besides the repositories. */
export interface TxContext {
  /**
   * Runs `fn` once this transaction has committed (and is durable as the store promises), in
   * the order registered, before the `transaction` promise resolves; never when it rolls back.
   * For work that must not happen unless the writes stand: notifying listeners, sending a
   * command to a kiosk, calling a payment provider. A callback that throws (or whose promise
   * rejects) is logged; it does not undo the commit nor reject the transaction.
   */
  afterCommit(fn: () => unknown): void;
}

/**
 * One transaction: every repository, bound to it, and its after-commit queue. Domain code
 * passes `tx` along; whatever it calls registers its own after-commit work on it.
 */
export interface Tx extends Repos, TxContext {}

/**
 * How a transaction is isolated from the others running at once. SQLite runs one transaction
 * at a time whatever is asked (its behaviour does not depend on this); PostgreSQL runs them
 * concurrently, each on its own connection:
 *
 *  - `'serializable'` (the default): PostgreSQL aborts a transaction whose outcome would differ
 *    from some one-at-a-time order (40001) and the store runs it again, whole. For every
 *    read that decides a write about money or stock: slot claims, captures, refunds,
 *    idempotent replays, reservations, limits and throttles. Its reads take predicate locks
 *    (a shared table sized `max_pred_locks_per_transaction x max_connections`), kept until
 *    every transaction that overlapped it has ended: thousands of these at once exhaust it.
 *  - `'read committed'`: each statement sees what was committed when it started; an UPDATE
 *    waits for the row's lock and re-checks its WHERE on the newest row. For the kiosks'
 *    own bookkeeping whose decisions are each made by one statement under its row lock
 *    (Boot: the kiosk's row is updated first, so two Boots of one kiosk take turns). No
 *    predicate locks, no serialisation failures (deadlocks, 40P01, are still retried).
 *  - `'autocommit'`: no transaction at all: each statement commits on its own, at READ
 *    COMMITTED, in one round trip (no BEGIN and COMMIT). For bookkeeping whose statements
 *    each stand alone (a heartbeat's touch, a session's online/offline, a command marked
 *    sent or answered). A statement that fails leaves the earlier ones committed (SQLite
 *    rolls them back); `fn` is never run again; `afterCommit` runs once `fn` resolved.
 *
 * Serialisable guarantees hold among serialisable transactions only: bookkeeping at a lower
 * level must not write what a money or stock decision reads to decide.
 */
export type TxIsolation = 'serializable' | 'read committed' | 'autocommit';

export interface TxOptions {
  /** Default `'serializable'`. See TxIsolation. */
  isolation?: TxIsolation;
}

export interface Store {
  /**
   * Runs `fn` in one transaction: committed when its promise resolves, rolled back when it
   * rejects (the rejection is passed on). `fn` gets the transaction twice, as `tx` and as its
   * context (`transaction((tx, { afterCommit }) => ...)`); `tx.afterCommit` is the same.
   * Never call `transaction` from inside `fn` (it would wait for itself).
   *
   * SQLite runs one transaction at a time; a PostgreSQL store runs them concurrently at the
   * isolation `opts.isolation` asks (default SERIALIZABLE, retrying serialisation failures:
   * `fn` may run more than once). Kiosk bookkeeping asks for less (see TxIsolation).
   */
  transaction<T>(fn: (tx: Tx, ctx: TxContext) => Promise<T>, opts?: TxOptions): Promise<T>;
  /**
   * Runs `fn`'s READS without a transaction of their own: on PostgreSQL each statement runs
   * alone (one round trip instead of BEGIN, the statement and COMMIT), seeing what was
   * committed when it started; SQLite runs the statements alone too, with no BEGIN IMMEDIATE
   * and COMMIT (or, while a transaction is open, after it). For one-statement reads on
   * hot paths (a command's state, a kiosk's secret hash); `fn` must not write, and several
   * statements in it do not share one snapshot: decisions that read then write use
   * `transaction`.
   */
  read<T>(fn: (repos: Repos) => Promise<T>): Promise<T>;
  /** Waits for running transactions, then closes. Later transactions reject with ESTOPPED. */
  close(): Promise<void>;
}
