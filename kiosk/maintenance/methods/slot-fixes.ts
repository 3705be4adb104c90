/**
 * Moves between `fault` and what the sensors prove, for the technician's slot commands
 * and self-tests. Every move is one transaction with its events (SlotStateChanged,
 * FaultRaised / FaultCleared, TechnicianAction).
 */
import type { SlotSensors } from '../../../hal/motor-board/types.js';
import { MaintenanceError } from '../../maintenance-wire.js';
import { enableWithDisk } from '../../slots/ready-again.js';
import { isLegalTransition, type SlotStateName } from '../../slots/transitions.js';
import type { PendingEvent } from '../../state/outbox.js';
import type { MaintenanceDeps } from '../deps.js';
import type { MethodContext } from './context.js';

/** States in which the daemon itself is moving the slot: a technician must wait. */
export const BUSY_STATES: readonly SlotStateName[] = ['dispensing', 'preparing'];

export function assertNotBusy(deps: MaintenanceDeps, slot: number, what: string): void {
  const rec = deps.slots.get(slot);
  if (BUSY_STATES.includes(rec.state)) {
    throw new MaintenanceError(
      'EBUSY',
      `slot ${slot} is ${rec.state}: kioskd is working on it; ${what} refused, try again when it is done`,
    );
  }
}

export async function sensorsOf(deps: MaintenanceDeps, slot: number): Promise<SlotSensors> {
  const s = (await deps.hardware.board.status(slot))[0];
  if (!s) throw new MaintenanceError('EBOARD', `the slot board reported nothing for slot ${slot}`);
  return s;
}

function audit(ctx: MethodContext, action: string, args: Record<string, unknown>): PendingEvent {
  return {
    type: 'TechnicianAction',
    data: { actor: (ctx.user || 'unknown').slice(0, 64), action, args },
  };
}

/** Puts `slot` in fault (unless it already is, or is busy) with a FaultRaised event. */
export function raiseFault(
  ctx: MethodContext,
  slot: number,
  fault: { code: string; message: string },
  action: string,
  args: Record<string, unknown>,
): void {
  const { slots } = ctx.deps;
  const rec = slots.get(slot);
  const events: PendingEvent[] = [
    { type: 'FaultRaised', data: { slot, ...fault } },
    audit(ctx, action, { ...args, result: fault.code }),
  ];
  if (rec.state === 'fault' || !isLegalTransition(rec.state, 'fault')) {
    ctx.deps.db.transaction(() => {
      for (const e of events) ctx.deps.outbox.append(e.type, e.data as never);
    })();
    return;
  }
  slots.transition({
    slot,
    from: rec.state,
    to: 'fault',
    reason: `${action}: ${fault.code}`,
    set: { fault },
    events,
  });
}

/**
 * Leaves `from` (fault or disabled) for what the sensors and the drive scan prove:
 * `fault` again (motor latched, disk error), `ready` (a disabled slot's prepared disk that
 * checks out), `loaded` (a disk), or `empty`. Returns the new state and, when it is still a
 * fault, the reason.
 */
export async function settleFromSensors(
  ctx: MethodContext,
  slot: number,
  action: string,
  args: Record<string, unknown>,
): Promise<{ state: SlotStateName; problem?: string }> {
  const { deps } = ctx;
  const rec = deps.slots.get(slot);
  const s = await sensorsOf(deps, slot);
  const disk = await deps.hardware.drives.diskForSlot(slot).catch(() => undefined);
  let fault: { code: string; message: string } | null = null;
  if (s.motorFault)
    fault = {
      code: 'EMOTOR',
      message: `slot ${slot}: motor fault latched; run kioskctl test motors ${slot}`,
    };
  else if (disk?.error)
    fault = { code: 'EIO', message: `slot ${slot}: the disk reports ${disk.error}; replace it` };
  if (fault) {
    if (rec.state === 'fault') {
      deps.outbox.append(
        'TechnicianAction',
        audit(ctx, action, { ...args, result: fault.code }).data as never,
      );
    } else {
      raiseFault(ctx, slot, fault, action, args);
    }
    return { state: 'fault', problem: fault.message };
  }
  const to: SlotStateName = s.present ? 'loaded' : 'empty';
  const events: PendingEvent[] = [];
  if (rec.state === 'fault' && rec.fault)
    events.push({ type: 'FaultCleared', data: { slot, code: rec.fault.code } });
  if (rec.state === 'disabled' && s.present) {
    // A prepared disk that still checks out comes back ready, not loaded.
    const result = await enableWithDisk(
      { db: deps.db, slots: deps.slots, now: () => deps.clock.now().toISOString() },
      slot,
      `${action} by technician ${ctx.user}`,
      deps.cloning?.checkReady,
      [audit(ctx, action, { ...args, result: 'checked' })],
    );
    return { state: result };
  }
  events.push(audit(ctx, action, { ...args, result: to }));
  deps.slots.transition({
    slot,
    from: rec.state,
    to,
    reason: `${action} by technician ${ctx.user}`,
    set: to === 'empty' ? { diskId: null } : {},
    events,
  });
  return { state: to };
}
