import type { KioskHub } from '../../hub/hub.js';
import type { Logger } from '../../log.js';

/**
 * Sends CancelReservation for `reservationId` to its kiosk (a durable command, 24 h deadline),
 * so the kiosk releases its hold. Never rejects: a failure to record it is logged.
 */
export async function cancelReservationOnKiosk(
  deps: { hub: KioskHub; logger: Logger },
  r: { id: string; kioskId: string },
): Promise<void> {
  try {
    await deps.hub.sendCommand(
      r.kioskId,
      'CancelReservation',
      { reservationId: r.id },
      new Date(Date.now() + 24 * 3600 * 1000),
    );
  } catch (err) {
    deps.logger.warn({ err, reservationId: r.id }, 'could not send CancelReservation');
  }
}
