import type {
  ChargeRecord,
  OrderRecord,
  PaymentRecord,
  ReservationRecord,
  Tx,
} from '../store/types.js';

/** What the renter is told about (notifications/renter-notifications.ts turns these into e-mail). */
export type RenterEvent =
  /** A charge (or a credit: `lost_reversed`) was recorded: a receipt. */
  | { type: 'charge'; charge: ChargeRecord }
  /** Money went to the renter's deposit (a top-up captured) or back to the card (a refund done). */
  | { type: 'payment'; payment: PaymentRecord }
  /** A reservation is ready for pickup until its hold window ends. */
  | { type: 'reservation_ready'; reservation: ReservationRecord }
  /**
   * Renewing `payment`'s hold before it lapses needs the renter to confirm it to their bank
   * (payments/reauthorisation.ts): for an order, or a reservation not being picked up yet.
   */
  | {
      type: 'payment_confirmation';
      payment: PaymentRecord;
      about:
        | { kind: 'order'; record: OrderRecord }
        | { kind: 'reservation'; record: ReservationRecord };
    };

export type RenterEventHandler = (tx: Tx, e: RenterEvent) => Promise<void>;

/**
 * The rental domain's facts about a renter, told inside the transaction that records them (so
 * whatever a handler writes, e.g. the e-mail outbox, commits or rolls back with the fact).
 */
export class RenterEvents {
  private readonly handlers: RenterEventHandler[] = [];

  on(handler: RenterEventHandler): void {
    this.handlers.push(handler);
  }

  async emit(tx: Tx, e: RenterEvent): Promise<void> {
    for (const h of this.handlers) await h(tx, e);
  }
}
