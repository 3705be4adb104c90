import type { OrderRecord } from '../store/types.js';

/** An order as the HTTP API returns it to its renter (`GET /api/orders/:id` and the like). */
export function orderView(o: OrderRecord) {
  return {
    id: o.id,
    kioskId: o.kioskId,
    diskTypeId: o.diskTypeId,
    days: o.days,
    writeProtect: o.writeProtect,
    amountMinor: o.amountMinor,
    currency: o.currency,
    state: o.state,
    slot: o.slot ?? undefined,
    diskId: o.diskId ?? undefined,
    failureReason: o.failureReason ?? undefined,
    reservationId: o.reservationId ?? undefined,
    rentalId: o.rentalId ?? undefined,
    steps: o.steps,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

export const TERMINAL_ORDER_STATES: readonly string[] = ['completed', 'failed', 'cancelled'];
