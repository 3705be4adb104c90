import type { EventDataOf, EventRequest, EventType } from '../../protocol/index.js';
import type { Logger } from '../log.js';
import type { Repos, Store } from '../store/types.js';

/** One kiosk event as domain handlers see it. */
export interface HubEvent<T extends EventType = EventType> {
  kioskId: string;
  eventId: string;
  seq: number;
  at: string;
  type: T;
  data: EventDataOf<T>;
}

export interface EventContext {
  /** Runs `fn` after the transaction committed (never if it rolls back). */
  afterCommit(fn: () => void): void;
}

/**
 * A domain handler. Runs inside the store transaction that records the event: its writes
 * through `tx` commit together with the event row, or not at all. Throwing rolls back; the
 * kiosk then gets a CALLERROR and re-sends the event later.
 */
export type EventHandler<T extends EventType = EventType> = (
  event: HubEvent<T>,
  tx: Repos,
  ctx: EventContext,
) => Promise<void>;

export interface EventIntakeDeps {
  store: Store;
  logger: Logger;
  /** Called (after commit) when an event's seq skipped numbers. */
  onGap: (kioskId: string, expected: number, got: number) => void;
  onRecorded?: (event: HubEvent) => void;
  now?: () => Date;
}

export interface IntakeResult {
  duplicate: boolean;
  gap?: { expected: number; got: number };
}

/**
 * Kiosk event intake: de-duplicates by eventId, detects seq gaps per kiosk, records the event
 * and runs the domain handlers in one transaction, in arrival order per kiosk.
 */
export class EventIntake {
  private readonly handlers = new Map<string, EventHandler[]>();
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: EventIntakeDeps) {}

  /** Registers a handler for one event type, or `'*'` for every type. Handlers run in registration order. */
  onEvent<T extends EventType>(type: T | '*', handler: EventHandler<T>): void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as unknown as EventHandler);
    this.handlers.set(type, list);
  }

  /** Records one event (resolves once committed; the caller then acknowledges it). */
  receive(kioskId: string, ev: EventRequest): Promise<IntakeResult> {
    const prev = this.chains.get(kioskId) ?? Promise.resolve();
    const next = prev.then(
      () => this.process(kioskId, ev),
      () => this.process(kioskId, ev),
    );
    this.chains.set(kioskId, next);
    void next.then(
      () => this.cleanup(kioskId, next),
      () => this.cleanup(kioskId, next),
    );
    return next;
  }

  private cleanup(kioskId: string, p: Promise<unknown>): void {
    if (this.chains.get(kioskId) === p) this.chains.delete(kioskId);
  }

  private async process(kioskId: string, ev: EventRequest): Promise<IntakeResult> {
    const after: Array<() => void> = [];
    const event: HubEvent = {
      kioskId,
      eventId: ev.eventId,
      seq: ev.seq,
      at: ev.at,
      type: ev.type,
      data: ev.data,
    } as HubEvent;
    const result = await this.deps.store.transaction(async (tx): Promise<IntakeResult> => {
      const kiosk = await tx.kiosks.get(kioskId);
      if (!kiosk) throw new Error(`kiosk ${kioskId} vanished`);
      const fresh = await tx.events.insertIfNew({
        ...event,
        data: ev.data as Record<string, unknown>,
        receivedAt: (this.deps.now?.() ?? new Date()).toISOString(),
      });
      if (!fresh) return { duplicate: true };
      const out: IntakeResult = { duplicate: false };
      if (ev.seq > kiosk.lastSeq + 1) out.gap = { expected: kiosk.lastSeq + 1, got: ev.seq };
      if (ev.seq <= kiosk.lastSeq) {
        this.deps.logger.warn(
          { kioskId, seq: ev.seq, lastSeq: kiosk.lastSeq },
          'event seq went backwards',
        );
      } else {
        await tx.kiosks.setLastSeq(kioskId, ev.seq);
      }
      const ctx: EventContext = { afterCommit: (fn) => after.push(fn) };
      for (const h of [...(this.handlers.get(ev.type) ?? []), ...(this.handlers.get('*') ?? [])]) {
        await h(event, tx, ctx);
      }
      return out;
    });
    if (!result.duplicate) this.deps.onRecorded?.(event);
    for (const fn of after) {
      try {
        fn();
      } catch (err) {
        this.deps.logger.error({ err, kioskId }, 'afterCommit callback failed');
      }
    }
    if (result.gap) {
      this.deps.logger.warn({ kioskId, ...result.gap }, 'event seq gap: requesting Inventory');
      this.deps.onGap(kioskId, result.gap.expected, result.gap.got);
    }
    return result;
  }

  /** Resolves when every event received so far is processed. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }
}
