import { setTimeout as sleep } from 'node:timers/promises';
import type { SlotStatus } from '../../hal/motor-board/index.js';
import type { DispenseRequest } from '../../protocol/index.js';
import { verifyCommand } from '../../protocol/index.js';
import type { CommandDeps } from '../handlers/context.js';
import { restoreSlotSafety } from '../handlers/dispense.js';
import {
  type DispenseOutcome,
  reportUnstartedDispense,
  settleDispense,
} from '../handlers/dispense-outcome.js';
import type { KioskLogger } from '../log.js';
import type { InboxEntry } from '../state/inbox.js';

/** How long reconciliation waits for a motor that is still turning. */
const BUSY_WAIT_MS = 6000;

async function settledStatus(deps: CommandDeps, slot: number): Promise<SlotStatus | undefined> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    const st = (await deps.hardware.board.status(slot))[0];
    if (!st?.busy || Date.now() > deadline) return st;
    await sleep(100);
  }
}

/**
 * Settles a Dispense that kioskd was running when it died, by what the sensors say, and
 * never by pushing again. Before the `pushing` step nothing can have moved; after it:
 * disk gone = taken (slot empty); disk at the pickup position = not taken (retracted,
 * slot back); disk still seated = the push never happened (slot back, failed); motor
 * fault = jammed (slot fault). Exactly one DispenseCompleted results.
 */
export async function reconcileDispense(
  deps: CommandDeps,
  entry: InboxEntry,
  log: KioskLogger,
): Promise<string> {
  const p = entry.payload as DispenseRequest;
  const slog = log.child({ commandId: p.commandId, slot: p.slot });
  let rec: ReturnType<typeof deps.slots.get> | undefined;
  try {
    rec = deps.slots.get(p.slot);
  } catch {
    rec = undefined;
  }
  if (rec?.state !== 'dispensing') {
    // Interrupted between receipt and the `dispensing` transaction: nothing moved.
    const sig = verifyCommand(deps.hubPublicKeyPem, deps.kioskId, 'Dispense', p, {
      now: Date.parse(entry.receivedAt),
    });
    if (!sig.ok) {
      deps.inbox.complete(p.commandId, undefined, { failed: true });
      return 'dropped (invalid signature)';
    }
    reportUnstartedDispense(
      deps,
      p,
      'kioskd restarted before the dispense started; nothing was pushed',
    );
    return 'failed (never started)';
  }
  const back = p.reservationId ? 'reserved' : 'ready';
  let o: DispenseOutcome;
  let st: SlotStatus | undefined;
  try {
    st = await settledStatus(deps, p.slot);
  } catch (err) {
    st = undefined;
    slog.warn({ err: (err as Error).message }, 'slot board unreadable during reconciliation');
  }
  if (!st) {
    const message = 'kioskd restarted during a dispense and the slot board could not be read';
    o = { outcome: 'failed', to: 'fault', reason: message, fault: { code: 'ESENSOR', message } };
  } else if (st.motorFault) {
    const message = 'kioskd restarted during a dispense; the slot motor reports a fault';
    o = { outcome: 'jammed', to: 'fault', reason: message, fault: { code: 'EJAM', message } };
    // Pulled out of the jammed slot before the restart settled it: the renter has it.
    if (!st.present && entry.step !== 'dispensing')
      o = { ...o, outcome: 'taken', reason: `taken from a jammed slot: ${message}` };
  } else if (!st.present) {
    o =
      entry.step === 'dispensing'
        ? {
            outcome: 'failed',
            to: 'fault',
            reason: 'the disk is missing but was never pushed',
            fault: { code: 'ESENSOR', message: `slot ${p.slot}: disk missing before any push` },
          }
        : { outcome: 'taken', to: 'empty', reason: 'settled by the sensor after a restart' };
  } else if (!st.seated) {
    o = await retractBack(deps, p, back);
  } else {
    o = {
      outcome: 'failed',
      to: back,
      reason: 'kioskd restarted during the dispense; the disk never left its seat',
    };
  }
  settleDispense(deps, p, o);
  await restoreSlotSafety(deps, p.slot, slog);
  slog.warn({ outcome: o.outcome, to: o.to }, 'interrupted dispense settled by the sensors');
  return o.outcome;
}

async function retractBack(
  deps: CommandDeps,
  p: DispenseRequest,
  back: 'ready' | 'reserved',
): Promise<DispenseOutcome> {
  try {
    const r = await deps.hardware.board.retract(p.slot);
    if (!r.sensors.present) return { outcome: 'taken', to: 'empty' };
    return {
      outcome: 'not_taken',
      to: back,
      reason: 'kioskd restarted while the disk waited at the pickup position; retracted',
    };
  } catch (err) {
    const e = err as { code?: string; message: string };
    const message = `retract after a restart failed: ${e.message}`;
    return {
      outcome: e.code === 'EJAM' || e.code === 'EMOTOR' ? 'jammed' : 'failed',
      to: 'fault',
      reason: message,
      fault: { code: e.code ?? 'EMOTOR', message },
    };
  }
}
