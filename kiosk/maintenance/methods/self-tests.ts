/**
 * `kioskctl test motors|relays|sensors [N]`: the kiosk's function check, as a pass/fail
 * table. A failing motor or relay puts its slot in fault; a passing test clears a fault
 * of that kind (EJAM/EMOTOR for motors, ERELAY for relays).
 */
import type { TestRow } from '../../maintenance-wire.js';
import type { MaintenanceDeps } from '../deps.js';
import { describe, type Method, type MethodContext, recordAction, slotsParam } from './context.js';
import { BUSY_STATES, raiseFault, settleFromSensors } from './slot-fixes.js';

const MOTOR_CODES = ['EJAM', 'EMOTOR'];

function busy(deps: MaintenanceDeps, slot: number): string | null {
  const st = deps.slots.get(slot).state;
  return BUSY_STATES.includes(st) ? `slot is ${st}` : null;
}

/** After a passing test: a fault of this kind is cleared (slot settles by its sensors). */
async function clearIfFaulted(
  ctx: MethodContext,
  slot: number,
  codes: string[],
  action: string,
): Promise<string> {
  const rec = ctx.deps.slots.get(slot);
  if (rec.state !== 'fault' || !rec.fault || !codes.includes(rec.fault.code)) return '';
  const settled = await settleFromSensors(ctx, slot, action, { slot, cleared: rec.fault.code });
  return settled.problem
    ? `; still in fault: ${settled.problem}`
    : `; fault ${rec.fault.code} cleared, slot ${settled.state}`;
}

function summary(kind: string, rows: TestRow[]) {
  return { test: kind, passed: rows.every((r) => r.result !== 'fail'), rows };
}

export const testMotorsMethod: Method = async (params, ctx) => {
  const { deps } = ctx;
  const rows: TestRow[] = [];
  for (const slot of slotsParam(params, deps)) {
    if (ctx.signal.aborted) break;
    const why = busy(deps, slot);
    if (why) {
      rows.push({ slot, test: 'motor', result: 'skip', detail: why });
      continue;
    }
    try {
      const r = await deps.hardware.board.selfTest(slot, { signal: ctx.signal });
      if (r.ok) {
        const note = await clearIfFaulted(ctx, slot, MOTOR_CODES, 'test.motors');
        rows.push({ slot, test: 'motor', result: 'pass', detail: `${r.durationMs} ms${note}` });
      } else {
        const code = r.fault === 'jam' ? 'EJAM' : 'EMOTOR';
        raiseFault(
          ctx,
          slot,
          { code, message: `slot ${slot}: motor self-test failed (${r.fault})` },
          'test.motors',
          { slot },
        );
        rows.push({ slot, test: 'motor', result: 'fail', detail: `${r.fault}` });
      }
    } catch (err) {
      rows.push({ slot, test: 'motor', result: 'fail', detail: describe(err).message });
    }
    ctx.progress({ step: 'motors', slot });
  }
  recordAction(ctx, 'test.motors', {
    slot: params.slot ?? 'all',
    failed: rows.filter((r) => r.result === 'fail').length,
  });
  return summary('motors', rows);
};

export const testRelaysMethod: Method = async (params, ctx) => {
  const { deps } = ctx;
  const { gpio } = deps.hardware;
  const rows: TestRow[] = [];
  for (const slot of slotsParam(params, deps)) {
    const why = busy(deps, slot);
    if (why) {
      rows.push({ slot, test: 'relay', result: 'skip', detail: why });
      continue;
    }
    let restore = true;
    try {
      restore = await gpio.getWriteProtect(slot);
      await gpio.setWriteProtect(slot, !restore);
      await gpio.setWriteProtect(slot, restore);
      const note = await clearIfFaulted(ctx, slot, ['ERELAY'], 'test.relays');
      rows.push({ slot, test: 'relay', result: 'pass', detail: `toggled and read back${note}` });
    } catch (err) {
      const e = describe(err);
      // Leave the relay in the safe state (write protection on) if it can still switch.
      await gpio.setWriteProtect(slot, true).catch(() => {});
      raiseFault(
        ctx,
        slot,
        { code: 'ERELAY', message: `slot ${slot}: write-protect relay: ${e.message}` },
        'test.relays',
        { slot },
      );
      rows.push({ slot, test: 'relay', result: 'fail', detail: `${e.code}: ${e.message}` });
    }
  }
  recordAction(ctx, 'test.relays', {
    slot: params.slot ?? 'all',
    failed: rows.filter((r) => r.result === 'fail').length,
  });
  return summary('relays', rows);
};

const HOLDS_DISK = ['loaded', 'ready', 'reserved', 'returned', 'preparing'];

export const testSensorsMethod: Method = async (params, ctx) => {
  const { deps } = ctx;
  const rows: TestRow[] = [];
  const slots = slotsParam(params, deps);
  try {
    const all = await deps.hardware.board.status();
    for (const slot of slots) {
      const s = all.find((x) => x.slot === slot);
      const rec = deps.slots.get(slot);
      if (!s) {
        rows.push({ slot, test: 'sensors', result: 'fail', detail: 'board reported nothing' });
        continue;
      }
      const problems: string[] = [];
      if (s.motorFault) problems.push('motor fault latched');
      if (s.trayOpen) problems.push('tray open');
      if (HOLDS_DISK.includes(rec.state) && !s.present)
        problems.push(`recorded ${rec.state} but no disk sensed`);
      if (rec.state === 'empty' && s.present && s.seated)
        problems.push('recorded empty but a disk is sensed');
      const seen = `present=${s.present} seated=${s.seated}`;
      rows.push({
        slot,
        test: 'sensors',
        result: problems.length ? 'fail' : 'pass',
        detail: problems.length ? `${problems.join(', ')} (${seen})` : seen,
      });
    }
  } catch (err) {
    rows.push({ slot: null, test: 'board', result: 'fail', detail: describe(err).message });
  }
  if (params.slot === undefined || params.slot === null) {
    try {
      const inputs = await deps.hardware.gpio.readInputs();
      rows.push({ slot: null, test: 'door', result: 'pass', detail: inputs.door });
      rows.push({
        slot: null,
        test: 'tamper',
        result: inputs.tamper ? 'fail' : 'pass',
        detail: inputs.tamper ? 'active' : 'quiet',
      });
    } catch (err) {
      rows.push({ slot: null, test: 'inputs', result: 'fail', detail: describe(err).message });
    }
  }
  recordAction(ctx, 'test.sensors', {
    slot: params.slot ?? 'all',
    failed: rows.filter((r) => r.result === 'fail').length,
  });
  return summary('sensors', rows);
};
