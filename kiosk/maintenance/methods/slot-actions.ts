/**
 * `kioskctl slot eject|retract|disable|enable N`: real motor motions and state changes
 * through kioskd's own board and slot store.
 */

import { MaintenanceError } from '../../maintenance-wire.js';
import { isLegalTransition } from '../../slots/transitions.js';
import type { PendingEvent } from '../../state/outbox.js';
import { describe, type Method, type MethodContext, recordAction, slotParam } from './context.js';
import { assertNotBusy, raiseFault, sensorsOf, settleFromSensors } from './slot-fixes.js';

const MOTOR_FAULTS = ['EJAM', 'EMOTOR', 'EFAULT', 'ETIMEOUT'];

function techEvent(
  ctx: MethodContext,
  action: string,
  args: Record<string, unknown>,
): PendingEvent {
  return {
    type: 'TechnicianAction',
    data: { actor: ctx.user.slice(0, 64) || 'unknown', action, args },
  };
}

/** A motion failed: a motor fault puts the slot in fault; the error goes to the client. */
function motionFailed(ctx: MethodContext, slot: number, action: string, err: unknown): never {
  const e = describe(err);
  if (MOTOR_FAULTS.includes(e.code)) {
    raiseFault(
      ctx,
      slot,
      { code: e.code === 'EFAULT' ? 'EMOTOR' : e.code, message: e.message },
      action,
      { slot },
    );
    throw new MaintenanceError(
      e.code,
      `slot ${slot}: ${action} failed: ${e.message}; the slot is now in fault: run kioskctl slot retract ${slot}`,
    );
  }
  recordAction(ctx, action, { slot, result: e.code });
  throw new MaintenanceError(e.code, `slot ${slot}: ${action} failed: ${e.message}`);
}

/**
 * Pushes the disk out for the technician and records it as removed by the technician:
 * the slot goes to `empty`, the disk's last slot is cleared. Refused while kioskd is
 * dispensing or preparing the slot, and for a reserved disk (the hub cancels first).
 */
export const ejectMethod: Method = async (params, ctx) => {
  const { deps } = ctx;
  const slot = slotParam(params, deps);
  assertNotBusy(deps, slot, 'eject');
  const rec = deps.slots.get(slot);
  if (rec.state === 'reserved')
    throw new MaintenanceError(
      'ERESERVED',
      `slot ${slot} holds the disk of reservation ${rec.reservationId}; cancel it from the hub first`,
    );
  const before = await sensorsOf(deps, slot);
  if (!before.present || !before.seated)
    throw new MaintenanceError(
      'ENODISK',
      `slot ${slot}: no seated disk to eject (sensors: present=${before.present}, seated=${before.seated})`,
    );
  let result: Awaited<ReturnType<typeof deps.hardware.board.eject>>;
  try {
    result = await deps.hardware.board.eject(slot);
  } catch (err) {
    return motionFailed(ctx, slot, 'slot.eject', err);
  }
  const args = { slot, diskId: rec.diskId, from: rec.state };
  const events: PendingEvent[] = [];
  if (rec.state === 'fault' && rec.fault)
    events.push({ type: 'FaultCleared', data: { slot, code: rec.fault.code } });
  events.push(techEvent(ctx, 'slot.eject', args));
  const also = (db: typeof deps.db) => {
    if (rec.diskId)
      db.prepare('UPDATE disks SET last_seen_slot = NULL, updated_at = ? WHERE disk_id = ?').run(
        deps.clock.now().toISOString(),
        rec.diskId,
      );
  };
  if (rec.state !== 'empty' && isLegalTransition(rec.state, 'empty')) {
    deps.slots.transition({
      slot,
      from: rec.state,
      to: 'empty',
      reason: `disk ${rec.diskId ?? '(unknown)'} removed by technician ${ctx.user}`,
      set: { diskId: null },
      events,
      also,
    });
  } else {
    deps.db.transaction(() => {
      for (const e of events) deps.outbox.append(e.type, e.data as never);
      also(deps.db);
    })();
  }
  return {
    slot,
    diskId: rec.diskId,
    state: deps.slots.get(slot).state,
    durationMs: result.durationMs,
  };
};

/**
 * Pulls a disk back in. A latched motor fault is self-tested first (a passing test
 * clears the latch). A slot in fault then settles to what the sensors prove.
 */
export const retractMethod: Method = async (params, ctx) => {
  const { deps } = ctx;
  const slot = slotParam(params, deps);
  assertNotBusy(deps, slot, 'retract');
  const s = await sensorsOf(deps, slot);
  let selfTest: { ok: boolean; fault?: string } | undefined;
  if (s.motorFault) {
    const r = await deps.hardware.board.selfTest(slot);
    selfTest = { ok: r.ok, ...(r.fault ? { fault: r.fault } : {}) };
    if (!r.ok) {
      raiseFault(
        ctx,
        slot,
        { code: 'EMOTOR', message: `slot ${slot}: motor self-test failed (${r.fault})` },
        'slot.retract',
        { slot },
      );
      throw new MaintenanceError(
        'EMOTOR',
        `slot ${slot}: the motor fails its self-test (${r.fault}); the motor needs repair before retract`,
      );
    }
  }
  const now = await sensorsOf(deps, slot);
  if (now.present && !now.seated) {
    try {
      await deps.hardware.board.retract(slot);
    } catch (err) {
      return motionFailed(ctx, slot, 'slot.retract', err);
    }
  }
  const rec = deps.slots.get(slot);
  if (rec.state === 'fault') {
    const settled = await settleFromSensors(ctx, slot, 'slot.retract', { slot });
    if (settled.problem) throw new MaintenanceError('ESTILLFAULTY', settled.problem);
    return { slot, state: settled.state, ...(selfTest ? { selfTest } : {}) };
  }
  recordAction(ctx, 'slot.retract', { slot });
  return { slot, state: rec.state, ...(selfTest ? { selfTest } : {}) };
};

/** Takes a slot out of service (any state but dispensing/preparing). Idempotent. */
export const disableMethod: Method = async (params, ctx) => {
  const { deps } = ctx;
  const slot = slotParam(params, deps);
  assertNotBusy(deps, slot, 'disable');
  const rec = deps.slots.get(slot);
  const reason = typeof params.reason === 'string' ? params.reason.slice(0, 200) : undefined;
  if (rec.state === 'disabled') {
    recordAction(ctx, 'slot.disable', { slot, result: 'already disabled' });
    return { slot, state: 'disabled', changed: false };
  }
  deps.slots.transition({
    slot,
    from: rec.state,
    to: 'disabled',
    reason: `disabled by technician ${ctx.user}${reason ? `: ${reason}` : ''}`,
    events: [
      techEvent(ctx, 'slot.disable', { slot, from: rec.state, ...(reason ? { reason } : {}) }),
    ],
  });
  return { slot, state: 'disabled', changed: true };
};

/**
 * Puts a disabled (or faulted) slot back into service, into what the sensors and the
 * drive scan prove: `empty`, `loaded`, or `fault` again (then the command fails with the
 * reason, so the technician knows the fault is still there).
 */
export const enableMethod: Method = async (params, ctx) => {
  const { deps } = ctx;
  const slot = slotParam(params, deps);
  const rec = deps.slots.get(slot);
  if (rec.state !== 'disabled' && rec.state !== 'fault')
    throw new MaintenanceError(
      'ESTATE',
      `slot ${slot} is ${rec.state}, not disabled or in fault: nothing to enable`,
    );
  const settled = await settleFromSensors(ctx, slot, 'slot.enable', { slot, from: rec.state });
  if (settled.problem)
    throw new MaintenanceError('ESTILLFAULTY', `slot ${slot} stays in fault: ${settled.problem}`);
  return { slot, state: settled.state };
};
