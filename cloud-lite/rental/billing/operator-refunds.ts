import { type Actor, audit } from '../../audit.js';
import type { PaymentRecord, Store } from '../../store/types.js';
import { notFound, RentalError } from '../errors.js';
import type { Payments } from '../payments/payments.js';

export interface OperatorRefundsDeps {
  store: Store;
  payments: Payments;
  now: () => Date;
}

/** A refund as the renter and the operator see it (a receipt line). */
export interface RefundLine {
  id: string;
  amountMinor: number;
  currency: string;
  state: 'refunding' | 'refunded' | 'refund_failed';
  at: string;
  /** The operator's reason (null: none given, as for a deposit withdrawal). */
  reason: string | null;
}

/**
 * Operators' refunds of captured money (an order, a fee, an extension, a deposit top-up), full or
 * partial, with a reason: one refund row per request (the Idempotency-Key makes a repeat the
 * same refund), audited `payment.refund_requested` with the reason, then carried out by
 * Payments.refund (the provider call after the commit; reconciliation finishes it if the hub
 * stops in between). What is left to refund counts every refund of the payment that did not fail.
 */
export class OperatorRefunds {
  constructor(private readonly deps: OperatorRefundsDeps) {}

  async refund(
    paymentId: string,
    req: { amountMinor?: number; reason: string },
    idempotencyKey: string,
    who: Actor,
  ): Promise<{ refund: RefundLine; created: boolean }> {
    const refId = `operator:${idempotencyKey}`;
    const made = await this.deps.store.transaction(async (tx) => {
      const p = await tx.payments.get(paymentId);
      if (p?.kind !== 'auth') throw notFound(`payment ${paymentId}`);
      const children = await tx.payments.listChildren(p.id);
      const again = children.find((c) => c.refId === refId);
      if (again) return { row: again, created: false };
      if (p.state !== 'captured')
        throw new RentalError(
          'VALIDATION',
          `payment ${p.id} is ${p.state}; only captured money can be refunded (an authorisation is voided instead)`,
          409,
        );
      const left =
        p.capturedMinor -
        children.filter((c) => c.state !== 'refund_failed').reduce((n, c) => n + c.amountMinor, 0);
      const amount = req.amountMinor ?? left;
      if (amount < 1 || amount > left)
        throw new RentalError(
          'VALIDATION',
          `a refund of ${amount} exceeds the ${left} ${p.currency} left to refund on ${p.id}`,
          409,
        );
      const row = this.deps.payments.newRefund(p, amount, refId, req.reason);
      await tx.payments.insert(row);
      await audit(tx, who, this.deps.now().toISOString(), 'payment.refund_requested', p.id, {
        refundId: row.id,
        amountMinor: amount,
        reason: req.reason,
        purpose: p.purpose,
        refId: p.refId,
      });
      return { row, created: true };
    });
    if (made.created) await this.deps.payments.refund(made.row.id);
    const row = await this.deps.payments.get(made.row.id);
    return { refund: refundLine(row), created: made.created };
  }
}

/** A refund row as a receipt line. */
export function refundLine(r: PaymentRecord): RefundLine {
  return {
    id: r.id,
    amountMinor: r.amountMinor,
    currency: r.currency,
    state: r.state as RefundLine['state'],
    at: r.createdAt,
    reason: r.reason,
  };
}
