import type { OrderRecord, OrderState } from '../../store/types.js';

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
    paymentId: o.paymentId ?? undefined,
    steps: o.steps,
    // kiosk_unreachable: when the payment is released unless the kiosk reports the disk taken.
    releaseAt: o.state === 'kiosk_unreachable' ? (o.steps.at(-1)?.until ?? undefined) : undefined,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

export const TERMINAL_ORDER_STATES: readonly string[] = ['completed', 'failed', 'cancelled'];

/**
 * States of an order that is not finished: its slot is promised, its payment may still be
 * captured, the renter may be holding (or about to hold) its disk. Every list of "orders in
 * flight" (slots, deposit refund, per-renter limits, failing an order) uses this one.
 */
export const ACTIVE_ORDER_STATES: readonly OrderState[] = [
  'created',
  'authorised',
  'dispensing',
  'jam_hold',
  'kiosk_unreachable',
];

export const isActiveOrder = (o: { state: string }): boolean =>
  (ACTIVE_ORDER_STATES as readonly string[]).includes(o.state);
