/**
 * The hub's store: repository interfaces, asynchronous so that a PostgreSQL implementation
 * can replace SQLite without touching domain code. Every access runs inside
 * `store.transaction(async (tx) => ...)`; `tx` holds every repository, so one domain
 * operation's writes (an event row and its handlers' effects) commit or roll back together.
 *
 * Adding a domain (accounts, payments, orders, ...):
 *  1. declare its repository interface here (or in its own `types.ts`) and add it to `Repos`;
 *  2. implement it for SQLite in `sqlite/<name>-repo.ts` and add it in `sqlite/sqlite-store.ts`
 *     `makeRepos()`;
 *  3. add a migration `sqlite/migrations/NNN-name.ts` (next number) and list it in
 *     `sqlite/migrations/index.ts`. Never edit a shipped migration.
 */

import type { RentalRepos } from '../rental/store/types.js';

export type KioskStatus = 'online' | 'offline';

export interface KioskRecord {
  id: string;
  name: string;
  createdAt: string;
  /** SHA-256 of the current secret; null until the first enrolment. */
  secretHash: Buffer | null;
  revokedAt: string | null;
  status: KioskStatus;
  lastSeenAt: string | null;
  connectedAt: string | null;
  softwareVersion: string | null;
  imageVersion: string | null;
  slotCount: number | null;
  lastBootAt: string | null;
  bootReason: string | null;
  /** Highest event seq recorded (0 before the first event). */
  lastSeq: number;
}

export interface KioskRepo {
  insert(k: { id: string; name: string; createdAt: string }): Promise<void>;
  get(id: string): Promise<KioskRecord | undefined>;
  list(): Promise<KioskRecord[]>;
  setSecretHash(id: string, hash: Buffer): Promise<void>;
  revoke(id: string, at: string): Promise<void>;
  setOnline(id: string, at: string): Promise<void>;
  setOffline(id: string, at: string): Promise<void>;
  /** Marks every kiosk offline (a single hub process starting). */
  setAllOffline(at: string): Promise<void>;
  touch(id: string, at: string): Promise<void>;
  recordBoot(
    id: string,
    b: {
      at: string;
      softwareVersion: string;
      imageVersion: string | null;
      slotCount: number;
      bootReason: string;
    },
  ): Promise<void>;
  setLastSeq(id: string, seq: number): Promise<void>;
  countOnline(): Promise<number>;
}

export interface EnrolmentTokenRecord {
  tokenHash: Buffer;
  kioskId: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

export interface EnrolmentTokenRepo {
  insert(t: Omit<EnrolmentTokenRecord, 'usedAt'>): Promise<void>;
  get(tokenHash: Buffer): Promise<EnrolmentTokenRecord | undefined>;
  markUsed(tokenHash: Buffer, at: string): Promise<void>;
  /** Invalidates every unused token of a kiosk (revocation, or a newer token issued). */
  invalidateForKiosk(kioskId: string, at: string): Promise<void>;
}

export interface SlotRecord {
  kioskId: string;
  slot: number;
  state: string;
  /** The slot snapshot exactly as the kiosk reported it (protocol SlotSnapshot). */
  snapshot: Record<string, unknown>;
  updatedAt: string;
}

export interface SlotRepo {
  /** Replaces every slot of a kiosk with a fresh inventory. */
  replaceAll(kioskId: string, slots: SlotRecord[]): Promise<void>;
  list(kioskId: string): Promise<SlotRecord[]>;
  /** One slot of a kiosk, or undefined if the hub has never heard of it. */
  get(kioskId: string, slot: number): Promise<SlotRecord | undefined>;
  /** Inserts or replaces one slot (keyed by kioskId + slot). */
  upsert(slot: SlotRecord): Promise<void>;
}

export type CommandState =
  | 'pending'
  | 'sent'
  | 'accepted'
  | 'rejected'
  | 'completed'
  | 'failed'
  | 'expired';

export interface CommandRecord {
  id: string;
  kioskId: string;
  action: string;
  payload: Record<string, unknown>;
  state: CommandState;
  createdAt: string;
  updatedAt: string;
  deadline: string;
  attempts: number;
  lastSentAt: string | null;
  /** The kiosk's CALLRESULT payload, or `{ code, description, details }` of a CALLERROR. */
  result: Record<string, unknown> | null;
}

export interface CommandRepo {
  insert(c: CommandRecord): Promise<void>;
  get(id: string): Promise<CommandRecord | undefined>;
  /** Commands still to deliver (pending or sent), oldest first. */
  listOutstanding(kioskId: string): Promise<CommandRecord[]>;
  listForKiosk(
    kioskId: string,
    opts: { limit: number; beforeCreatedAt?: string },
  ): Promise<CommandRecord[]>;
  /** Marks a pending or sent command sent (attempts + 1); false when it is in another state. */
  markSent(id: string, at: string): Promise<boolean>;
  /**
   * Sets the state (and result, when given). A command in a final state (rejected, completed,
   * failed, expired) never changes; with `onlyFrom`, only a command currently in one of those
   * states changes. Returns whether it changed.
   */
  setState(
    id: string,
    state: CommandState,
    at: string,
    result?: Record<string, unknown> | null,
    onlyFrom?: readonly CommandState[],
  ): Promise<boolean>;
  /** Expires outstanding commands whose deadline is before `now`; returns them. */
  expireDue(now: string): Promise<CommandRecord[]>;
  countByState(): Promise<Record<string, number>>;
}

export interface EventRecord {
  eventId: string;
  kioskId: string;
  seq: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
  receivedAt: string;
}

export interface EventRepo {
  /** Inserts the event; returns false (and writes nothing) when `eventId` is already recorded. */
  insertIfNew(e: EventRecord): Promise<boolean>;
  /** The recorded event with this id (of any kiosk), if any. */
  get(eventId: string): Promise<EventRecord | undefined>;
  /** The recorded event of a kiosk with this seq, if any. */
  findBySeq(kioskId: string, seq: number): Promise<EventRecord | undefined>;
  listForKiosk(kioskId: string, opts: { afterSeq?: number; limit: number }): Promise<EventRecord[]>;
}

/** Every repository, bound to one transaction. Domains add their repositories here. */
export interface Repos {
  kiosks: KioskRepo;
  enrolmentTokens: EnrolmentTokenRepo;
  slots: SlotRepo;
  commands: CommandRepo;
  events: EventRepo;
  /** The rental domain's repositories (accounts, payments, orders, ...): rental/store/types.ts. */
  rental: RentalRepos;
}

export interface Store {
  /**
   * Runs `fn` in one transaction: committed when its promise resolves, rolled back when it
   * rejects (the rejection is passed on). Transactions are serialized; never call
   * `transaction` from inside `fn` (it would wait for itself).
   */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** Waits for running transactions, then closes. Later transactions reject with ESTOPPED. */
  close(): Promise<void>;
}
