import type { DispenseRequest, EventDataOf } from '../../protocol/index.js';
import type { KioskDb } from '../db/open-db.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { Inbox } from '../state/inbox.js';
import type { Outbox, PendingEvent } from '../state/outbox.js';

export type DispenseOutcomeName = EventDataOf<'DispenseCompleted'>['outcome'];

/** How a dispense ended and where its slot goes. */
export interface DispenseOutcome {
  outcome: DispenseOutcomeName;
  /** The slot's next state (from `dispensing`). */
  to: 'empty' | 'ready' | 'reserved' | 'fault';
  reason?: string;
  /** Required when `to` is `fault`; also reported as FaultRaised. */
  fault?: { code: string; message: string };
}

export interface SettleDeps {
  db: KioskDb;
  slots: SlotStore;
  inbox: Inbox;
  outbox: Outbox;
}

/** Protocol texts are capped at 1024 characters. */
export function clip(text: string): string {
  return text.length > 1000 ? `${text.slice(0, 997)}...` : text;
}

function completedEvent(p: DispenseRequest, o: Pick<DispenseOutcome, 'outcome' | 'reason'>) {
  const data: EventDataOf<'DispenseCompleted'> = {
    commandId: p.commandId,
    slot: p.slot,
    diskId: p.diskId,
    outcome: o.outcome,
  };
  if (p.orderId !== undefined) data.orderId = p.orderId;
  if (p.reservationId !== undefined) data.reservationId = p.reservationId;
  if (o.reason !== undefined) data.reason = clip(o.reason);
  return { type: 'DispenseCompleted', data } satisfies PendingEvent;
}

/**
 * Ends a dispense whose slot is `dispensing`: ONE transaction moves the slot, appends
 * SlotStateChanged + DispenseCompleted (+ FaultRaised), updates the disk and reservation
 * rows and finishes the inbox command. Throws (writing nothing) if the slot is not
 * `dispensing`.
 */
export function settleDispense(deps: SettleDeps, p: DispenseRequest, o: DispenseOutcome): void {
  const now = new Date().toISOString();
  const events: PendingEvent[] = [completedEvent(p, o)];
  if (o.fault) {
    events.push({
      type: 'FaultRaised',
      data: { slot: p.slot, code: o.fault.code, message: clip(o.fault.message) },
    });
  }
  deps.slots.transition({
    slot: p.slot,
    from: 'dispensing',
    to: o.to,
    reason: `dispense ${o.outcome}${o.reason ? `: ${clip(o.reason)}` : ''}`.slice(0, 1000),
    // A disk taken from a slot going to `fault` (pulled out after a jam) leaves it without one.
    set: {
      ...(o.fault ? { fault: { code: o.fault.code, message: clip(o.fault.message) } } : {}),
      ...(o.outcome === 'taken' ? { diskId: null } : {}),
    },
    events,
    also: (db) => {
      if (o.outcome === 'taken') {
        db.prepare('UPDATE disks SET last_seen_slot = NULL, updated_at = ? WHERE disk_id = ?').run(
          now,
          p.diskId,
        );
        if (p.reservationId) {
          db.prepare(
            "UPDATE reservations SET state = 'dispensed', updated_at = ? WHERE reservation_id = ?",
          ).run(now, p.reservationId);
        }
      }
      deps.inbox.complete(
        p.commandId,
        { status: 'Accepted' },
        { failed: o.outcome === 'failed' || o.outcome === 'jammed' },
      );
    },
  });
}

/**
 * Reports the end of a Dispense that never moved its slot into `dispensing` (interrupted
 * right after it was received): DispenseCompleted and the inbox finish, in one transaction.
 */
export function reportUnstartedDispense(
  deps: SettleDeps,
  p: DispenseRequest,
  reason: string,
): void {
  deps.db.transaction(() => {
    const ev = completedEvent(p, { outcome: 'failed', reason });
    deps.outbox.append(ev.type, ev.data);
    deps.inbox.complete(p.commandId, { status: 'Accepted' }, { failed: true });
  })();
}
