import type {
  BootRequest,
  EventDataOf,
  EventType,
  HubToKioskAction,
} from '../../protocol/index.js';
import type { CommandRecord, KioskRecord, Tx } from '../store/types.js';
import type { CommandInput } from './types.js';

/**
 * The port between the domains and the kiosks' hub: what the rental and updates domains may
 * ask of the kiosks (send a durable command inside their own transaction, whether a kiosk is
 * there) and hear from them (their events, commands that ended without an outcome event, a
 * kiosk connecting). Those domains import this file and never the hub (a lint rule); KioskHub
 * implements it.
 */
export interface KioskCommands {
  /**
   * Records a command for `kioskId` inside `tx` (so it commits, or not, with the domain's
   * writes) and sends it once `tx` committed, if the kiosk is connected; otherwise on its next
   * Boot. Resolves with the recorded command (state `pending`). `deadline`: the command
   * expires if not answered by then; signed commands' signatures expire then too. Rejects
   * NotFoundError if the kiosk does not exist.
   */
  send<A extends HubToKioskAction>(
    tx: Tx,
    kioskId: string,
    action: A,
    payload: CommandInput<A>,
    deadline: Date,
  ): Promise<CommandRecord>;

  /**
   * Settles a long-running command inside `tx` from an outcome that reached the hub outside the
   * event stream (a diagnostics upload over HTTP); only a command of `opts.kioskId`. No-op for
   * a command already ended (see CommandDispatcher.finish).
   */
  settle(
    tx: Tx,
    commandId: string,
    state: 'completed' | 'failed',
    opts: { kioskId: string; result?: Record<string, unknown> },
  ): Promise<CommandRecord | undefined>;

  /** Whether kiosk `kioskId` has a connection to this hub process (Booted or not yet). */
  isConnected(kioskId: string): boolean;

  /** Whether kiosk `kioskId`'s connection to this hub process has Booted (its Boot recorded). */
  isBooted(kioskId: string): boolean;

  /**
   * Whether kiosk `k` (its registry row, read recently) has a connection to this hub process
   * or, with several processes, to another one.
   */
  connectedInCluster(k: Pick<KioskRecord, 'id' | 'status' | 'hubProcess'>): boolean;

  /**
   * Whether kiosk `k` can serve a renter now: connected (here with an accepted Boot, or to
   * another hub process as its registry row says) and heard from within 3 heartbeat intervals.
   */
  canServe(k: Pick<KioskRecord, 'id' | 'lastSeenAt' | 'status' | 'hubProcess'>): boolean;

  /** Milliseconds since kiosk `k` was last heard from, by the hub's clock. */
  silentForMs(k: Pick<KioskRecord, 'lastSeenAt'>): number;

  /**
   * Registers a handler for one event type, or `'*'` for every type; handlers run in
   * registration order, inside the transaction that records the event. The command an
   * outcome event names (DispenseCompleted, PrepareCompleted, PrepareFailed) is already
   * settled in that transaction when domain handlers run.
   */
  onEvent<T extends EventType>(type: T | '*', handler: EventHandler<T>): void;

  /**
   * Registers a listener for commands that ended with no outcome event to settle them: refused
   * or failed by the kiosk's answer (`rejected`, `failed`), or past their deadline (`expired`).
   * Called after the change committed, outside any transaction.
   */
  onCommandEnded(listener: (command: CommandRecord) => void): void;

  /**
   * Registers a listener for a kiosk coming online on this hub process: the first accepted Boot
   * of a connection, after its statement committed (the registry row says online, held here).
   * Called outside any transaction.
   */
  onKioskOnline(listener: (kioskId: string) => void): void;

  /**
   * Registers a listener for an accepted Boot of a kiosk on this hub process, after it was
   * recorded (what the kiosk reports about itself in it: its versions, the remote configuration
   * it runs). Called outside any transaction.
   */
  onKioskBooted(listener: (kioskId: string, boot: BootRequest) => void): void;
}

/** Each event type's data. */
type EventDataMap = { [K in EventType]: EventDataOf<K> };

/** One kiosk event of type `T` as domain handlers see it. */
export interface HubEvent<T extends EventType = EventType> {
  kioskId: string;
  eventId: string;
  seq: number;
  at: string;
  type: T;
  data: EventDataMap[T];
}

/**
 * A domain handler of events of type `T`. Runs inside the store transaction that records the
 * event: its writes through `tx` commit together with the event row, or not at all (work for
 * after the commit goes to `tx.afterCommit`). Throwing rolls back; the kiosk then gets a
 * CALLERROR and re-sends the event later.
 */
export type EventHandler<T extends EventType = EventType> = (
  event: HubEvent<T>,
  tx: Tx,
) => Promise<void>;
