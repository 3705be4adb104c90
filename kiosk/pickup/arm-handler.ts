import { accepted, type CommandDeps, type CommandHandler, rejected } from '../handlers/context.js';
import { verifySigned } from '../handlers/verify-signed.js';
import { NoSuchSlotError } from '../slots/errors.js';
import type { PickupCodes } from './code-store.js';

/**
 * ArmPickupCode (signed): keeps the reservation's code hash so the keypad can dispense its
 * slot without the hub, and sets the kiosk's hold of the reservation to end at the code's
 * expiry (the hub's hold), so the kiosk stops honouring the code, and expires the hold with a
 * ReservationExpired, exactly then. Rejected when the slot is not held for that reservation
 * and disk, when the code already expired, or when the reservation's code already dispensed.
 */
export function armPickupCodeHandler(
  deps: CommandDeps,
  codes: PickupCodes,
): CommandHandler<'ArmPickupCode'> {
  return (p, ctx) => {
    verifySigned(deps, 'ArmPickupCode', p, ctx);
    const now = deps.clock.now();
    if (Date.parse(p.codeExpiresAt) <= now.getTime())
      return rejected(`the code's hold ended at ${p.codeExpiresAt}`);
    let slot: ReturnType<CommandDeps['slots']['get']>;
    try {
      slot = deps.slots.get(p.slot);
    } catch (err) {
      if (err instanceof NoSuchSlotError) return rejected(`slot ${p.slot} does not exist`);
      throw err;
    }
    if (slot.state !== 'reserved' || slot.reservationId !== p.reservationId)
      return rejected(`slot ${p.slot} is not held for reservation ${p.reservationId}`);
    if (slot.diskId !== p.diskId)
      return rejected(`slot ${p.slot} holds disk ${slot.diskId}, not ${p.diskId}`);
    const armed = deps.db.transaction(() => {
      if (!codes.arm(p, now)) return false;
      deps.db
        .prepare('UPDATE reservations SET hold_until = ?, updated_at = ? WHERE reservation_id = ?')
        .run(p.codeExpiresAt, now.toISOString(), p.reservationId);
      return true;
    })();
    if (!armed) return rejected(`the code of reservation ${p.reservationId} was already used`);
    ctx.log.info(
      { slot: p.slot, reservationId: p.reservationId, until: p.codeExpiresAt },
      'pickup code armed',
    );
    return accepted();
  };
}
