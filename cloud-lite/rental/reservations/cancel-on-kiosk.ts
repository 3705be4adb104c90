import type { KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type { Tx } from '../../store/types.js';

/**
 * Records CancelReservation for reservation `r` to its kiosk inside `tx` (a durable command, 24 h
 * deadline; sent once `tx` committed), so the kiosk releases its hold. Never rejects: a failure
 * to record it is logged.
 */
export async function cancelReservationOnKiosk(
  tx: Tx,
  deps: { kiosks: KioskCommands; logger: Logger },
  r: { id: string; kioskId: string },
): Promise<void> {
  try {
    await deps.kiosks.send(
      tx,
      r.kioskId,
      'CancelReservation',
      { reservationId: r.id },
      new Date(Date.now() + 24 * 3600 * 1000),
    );
  } catch (err) {
    deps.logger.warn({ err, reservationId: r.id }, 'could not send CancelReservation');
  }
}
