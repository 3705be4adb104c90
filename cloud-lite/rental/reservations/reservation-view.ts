import type { ReservationRecord } from '../../store/types.js';

/**
 * A reservation as the HTTP API returns it to its renter (`GET /api/reservations/:id` and the
 * like). `pickupCode`: given only to its renter, while ready (docs/pickup-codes.md).
 */
export function reservationView(r: ReservationRecord, pickupCode?: string) {
  return {
    id: r.id,
    kioskId: r.kioskId,
    diskTypeId: r.diskTypeId,
    days: r.days,
    writeProtect: r.writeProtect,
    amountMinor: r.amountMinor,
    currency: r.currency,
    state: r.state,
    progress: r.progress ?? undefined,
    slot: r.slot ?? undefined,
    diskId: r.diskId ?? undefined,
    holdUntil: r.holdUntil,
    failureReason: r.failureReason ?? undefined,
    fees: r.fees,
    orderId: r.orderId ?? undefined,
    pickupCode,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export const TERMINAL_RESERVATION_STATES: readonly string[] = [
  'picked_up',
  'cancelled',
  'expired',
  'failed',
];
