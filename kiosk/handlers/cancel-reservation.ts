import { accepted, type CommandDeps, type CommandHandler, rejected } from './context.js';

/**
 * CancelReservation: a held reservation's slot goes back to `ready` (reservation row
 * `cancelled`, ReservationCancelled event, one transaction). A reservation still being
 * prepared is marked cancelled and reported the same way, then its running prepare is
 * aborted through `cancelPrepare` (the clone stops; its slot goes back to `loaded` with a
 * PrepareFailed ECANCELLED for the PrepareDisk command). Answers without waiting for the
 * abort. Rejected when unknown or while its disk is being dispensed; Accepted again if
 * already cancelled.
 */
export function cancelReservationHandler(
  deps: CommandDeps,
  cancelPrepare?: (reservationId: string) => Promise<void> | undefined,
): CommandHandler<'CancelReservation'> {
  return (p, ctx) => {
    const row = deps.db
      .prepare('SELECT state, slot FROM reservations WHERE reservation_id = ?')
      .get(p.reservationId) as { state: string; slot: number | null } | undefined;
    const held = deps.slots.list().find((s) => s.reservationId === p.reservationId);
    if (!row && !held) return rejected(`unknown reservation ${p.reservationId}`);
    if (row?.state === 'cancelled') return accepted();
    if (held?.state === 'dispensing') {
      return rejected(`reservation ${p.reservationId} is being dispensed`);
    }
    if (row && row.state !== 'held' && row.state !== 'preparing') {
      return rejected(`reservation ${p.reservationId} is ${row.state}`);
    }
    const now = deps.clock.now().toISOString();
    const markRow = () => {
      deps.db
        .prepare(
          "UPDATE reservations SET state = 'cancelled', updated_at = ? WHERE reservation_id = ?",
        )
        .run(now, p.reservationId);
      // Its pickup code (kiosk/pickup) no longer dispenses.
      deps.db
        .prepare(
          "UPDATE pickup_codes SET state = 'disarmed', updated_at = ? WHERE reservation_id = ? AND state = 'armed'",
        )
        .run(now, p.reservationId);
    };
    const event = {
      type: 'ReservationCancelled' as const,
      data: {
        commandId: p.commandId,
        reservationId: p.reservationId,
        reason: 'cancelled by the hub',
        ...(held ? { slot: held.slot } : row?.slot ? { slot: row.slot } : {}),
      },
    };
    if (held?.state === 'reserved') {
      deps.slots.transition({
        slot: held.slot,
        from: 'reserved',
        to: 'ready',
        reason: `reservation ${p.reservationId} cancelled`,
        events: [event],
        also: markRow,
      });
    } else {
      deps.db.transaction(() => {
        markRow();
        deps.outbox.append(event.type, event.data);
      })();
    }
    if (row?.state === 'preparing') void cancelPrepare?.(p.reservationId);
    ctx.log.info({ reservationId: p.reservationId, slot: held?.slot }, 'reservation cancelled');
    return accepted();
  };
}
