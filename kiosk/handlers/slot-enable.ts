import type { SlotSensors } from '../../hal/motor-board/index.js';
import { NoSuchSlotError, StaleStateError } from '../slots/errors.js';
import { enableWithDisk, type ReadyCheck } from '../slots/ready-again.js';
import type { SlotRecord } from '../slots/slot-store.js';
import { accepted, type CommandDeps, type CommandHandler, rejected } from './context.js';

function find(deps: CommandDeps, slot: number): SlotRecord | string {
  try {
    return deps.slots.get(slot);
  } catch (err) {
    if (err instanceof NoSuchSlotError) return `slot ${slot} does not exist on this kiosk`;
    throw err;
  }
}

/** DisableSlot: takes a slot out of service (any state but `dispensing`). Idempotent. */
export function disableSlotHandler(deps: CommandDeps): CommandHandler<'DisableSlot'> {
  return (p, ctx) => {
    const rec = find(deps, p.slot);
    if (typeof rec === 'string') return rejected(rec);
    if (rec.state === 'disabled') return accepted();
    if (rec.state === 'dispensing') return rejected(`slot ${p.slot} is being dispensed; try again`);
    deps.slots.transition({
      slot: p.slot,
      from: rec.state,
      to: 'disabled',
      reason: p.reason ?? 'disabled by the hub',
    });
    ctx.log.info({ slot: p.slot, from: rec.state }, 'slot disabled');
    return accepted();
  };
}

/**
 * EnableSlot: a disabled slot goes into what its sensors prove: `empty` (no disk), `ready`
 * (its prepared disk passes `check`, identity and content), `loaded` (a disk to be checked or
 * prepared again) or `fault` (motor fault latched). Rejected when the slot is not disabled
 * or the board cannot be read.
 */
export function enableSlotHandler(
  deps: CommandDeps,
  check?: ReadyCheck,
): CommandHandler<'EnableSlot'> {
  return async (p, ctx) => {
    const rec = find(deps, p.slot);
    if (typeof rec === 'string') return rejected(rec);
    if (rec.state !== 'disabled') return rejected(`slot ${p.slot} is ${rec.state}, not disabled`);
    let s: SlotSensors | undefined;
    try {
      s = (await deps.hardware.board.status(p.slot))[0];
    } catch (err) {
      return rejected(`slot board unreadable: ${(err as Error).message}`);
    }
    if (!s) return rejected(`slot board reported nothing for slot ${p.slot}`);
    const reason = p.reason ?? 'enabled by the hub';
    if (s.motorFault) {
      const fault = {
        code: 'EMOTOR',
        message: `slot ${p.slot}: motor fault latched; self-test it`,
      };
      deps.slots.transition({
        slot: p.slot,
        from: 'disabled',
        to: 'fault',
        reason,
        set: { fault },
        events: [{ type: 'FaultRaised', data: { slot: p.slot, ...fault } }],
      });
    } else if (s.present) {
      try {
        const now = () => deps.clock.now().toISOString();
        await enableWithDisk({ db: deps.db, slots: deps.slots, now }, p.slot, reason, check);
      } catch (err) {
        if (err instanceof StaleStateError) return rejected(`slot ${p.slot} changed meanwhile`);
        throw err;
      }
    } else {
      deps.slots.transition({
        slot: p.slot,
        from: 'disabled',
        to: 'empty',
        reason,
        set: { diskId: null },
      });
    }
    ctx.log.info({ slot: p.slot, to: deps.slots.get(p.slot).state }, 'slot enabled');
    return accepted();
  };
}
