import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { CodedError } from '../../common/coded-error.js';
import {
  EVENT_TYPES,
  type EventDataOf,
  type EventRequest,
  type EventType,
  validateEventData,
} from '../../protocol/index.js';
import type { KioskDb } from '../db/open-db.js';
import type { TimeSource } from './clock.js';

/** One durable event as stored and as sent in an `Event` call (protocol's Event request). */
export type OutboxEvent = EventRequest;

/** A typed (type, data) pair, e.g. for events committed with a slot transition. */
export type PendingEvent = { [K in EventType]: { type: K; data: EventDataOf<K> } }[EventType];

/** An event was refused at append time: its data does not match the protocol schema. */
export class InvalidEventError extends CodedError<'EINVALIDEVENT'> {
  constructor(type: string, problem: string) {
    super(
      'EINVALIDEVENT',
      `event ${type} not stored: ${problem}; this is a kioskd bug, fix the caller`,
    );
  }
}

export interface OutboxDeps {
  db: KioskDb;
  clock: TimeSource;
}

interface Row {
  seq: number;
  event_id: string;
  type: string;
  data: string;
  at: string;
}

/**
 * The kiosk's durable event queue (the `outbox` table). `seq` is gap-free per kiosk:
 * it comes from a counter bumped in the same transaction as the insert, so a rolled-back
 * append leaves no hole, and deleting acked events never reuses a number.
 * Emits `'appended'` (seq) after each append; the hub link drains on it.
 */
export class Outbox extends EventEmitter {
  constructor(private readonly deps: OutboxDeps) {
    super();
  }

  /**
   * Appends one event. Runs in its own transaction, or joins the caller's (call it inside
   * `db.transaction(...)` to commit the event with a state change). Synchronous.
   */
  append<T extends EventType>(type: T, data: EventDataOf<T>): OutboxEvent {
    // Refusing a malformed event here keeps it from blocking the drain forever.
    if (!(EVENT_TYPES as readonly string[]).includes(type)) {
      throw new InvalidEventError(String(type), 'unknown event type');
    }
    const check = validateEventData(type, data);
    if (!check.ok) throw new InvalidEventError(type, check.message);
    const { db } = this.deps;
    const ev = db.transaction((): OutboxEvent => {
      const { value: seq } = db
        .prepare("UPDATE counters SET value = value + 1 WHERE name = 'outbox_seq' RETURNING value")
        .get() as { value: number };
      const event = {
        seq,
        eventId: randomUUID(),
        at: this.deps.clock.now().toISOString(),
        type,
        data,
      } as OutboxEvent;
      db.prepare('INSERT INTO outbox (seq, event_id, type, data, at) VALUES (?, ?, ?, ?, ?)').run(
        seq,
        event.eventId,
        type,
        JSON.stringify(data),
        event.at,
      );
      return event;
    })();
    // Listeners run the drain asynchronously, after any enclosing transaction commits.
    this.emit('appended', ev.seq);
    return ev;
  }

  /** Up to `n` events, lowest seq first (optionally only those after `afterSeq`). */
  peek(n: number, afterSeq = 0): OutboxEvent[] {
    const rows = this.deps.db
      .prepare('SELECT * FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(afterSeq, n) as Row[];
    return rows.map((r) => ({
      seq: r.seq,
      eventId: r.event_id,
      at: r.at,
      type: r.type,
      data: JSON.parse(r.data) as unknown,
    })) as OutboxEvent[];
  }

  /**
   * The hub acknowledged event `seq`: delete exactly that one (never any lower unacked
   * event). Returns false if it was already gone (a repeated ack).
   */
  ack(seq: number): boolean {
    return this.deps.db.prepare('DELETE FROM outbox WHERE seq = ?').run(seq).changes === 1;
  }

  /** Events waiting for the hub. */
  depth(): number {
    return (this.deps.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  }

  /** The highest seq ever issued (0 if none). */
  lastSeq(): number {
    return (
      this.deps.db.prepare("SELECT value FROM counters WHERE name = 'outbox_seq'").get() as {
        value: number;
      }
    ).value;
  }
}
