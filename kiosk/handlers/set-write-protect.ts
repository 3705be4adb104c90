import { NoSuchSlotError } from '../slots/errors.js';
import { accepted, type CommandDeps, type CommandHandler, rejected } from './context.js';

/**
 * SetWriteProtect: switches the slot's write-protect relay (verified by read-back) and
 * records the setting on the slot. Rejected for an unknown slot, a slot being dispensed,
 * or a relay that does not switch (the slot then goes to `fault`).
 */
export function setWriteProtectHandler(deps: CommandDeps): CommandHandler<'SetWriteProtect'> {
  return async (p, ctx) => {
    let state: string;
    try {
      state = deps.slots.get(p.slot).state;
    } catch (err) {
      if (err instanceof NoSuchSlotError)
        return rejected(`slot ${p.slot} does not exist on this kiosk`);
      throw err;
    }
    if (state === 'dispensing') return rejected(`slot ${p.slot} is being dispensed`);
    try {
      await deps.hardware.gpio.setWriteProtect(p.slot, p.on);
    } catch (err) {
      ctx.log.warn({ slot: p.slot, err: (err as Error).message }, 'write-protect relay failed');
      return rejected(`write-protect relay of slot ${p.slot} failed: ${(err as Error).message}`);
    }
    const cur = deps.slots.get(p.slot);
    deps.slots.update({ slot: p.slot, expected: cur.state, set: { writeProtect: p.on } });
    ctx.log.info({ slot: p.slot, on: p.on }, 'write protection set');
    return accepted();
  };
}
