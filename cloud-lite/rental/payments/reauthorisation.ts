import { audit, SYSTEM } from '../../audit.js';
import type { Logger } from '../../log.js';
import type { PaymentRecord, Store } from '../../store/types.js';
import type { Orders } from '../orders/orders.js';
import type { RenterEvents } from '../renter-events.js';
import type { Payments } from './payments.js';

export interface ReauthorisationDeps {
  store: Store;
  payments: Payments;
  orders: Orders;
  logger: Logger;
  now: () => Date;
  /** Told when the renter must confirm a renewal (their e-mail); absent: nobody listens. */
  events?: RenterEvents;
}

/** What one attempt did: the new payment, or why the old one stays at risk. */
export type ReauthoriseOutcome = { ok: true; paymentId: string } | { ok: false; reason: string };

const who = SYSTEM('reauthorisation');

/**
 * Re-authorises an order's or a reservation's authorisation before it lapses (called by the
 * leader's reconciliation pass for the payments lapsing within the margin): a new payment of
 * the same amount on the renter's saved card (the card the renter asked to keep for later
 * payments; a one-time payment method cannot be used again), then, in one transaction that
 * re-reads both, the order or reservation (and a reservation's pickup order) moves to it and
 * the old authorisation is voided. If the old one was captured or released meanwhile, the new
 * one is voided instead. The new payment is off-session (the renter is not there); when the
 * card's issuer still wants the renter to authenticate, the renter is e-mailed and the order
 * says so on the renter's page.
 * Audited `payment.reauthorised` / `payment.reauthorise_failed`; a failure leaves the old
 * authorisation and its AUTHORISATION_AT_RISK flag for an operator.
 */
export class Reauthorisation {
  constructor(private readonly deps: ReauthorisationDeps) {}

  async run(old: PaymentRecord): Promise<ReauthoriseOutcome> {
    const { store, payments, orders, logger } = this.deps;
    const at = () => this.deps.now().toISOString();
    if (old.purpose !== 'order' && old.purpose !== 'reservation')
      return { ok: false, reason: `a ${old.purpose} payment is not re-authorised` };
    const fresh = await store.transaction(async (tx) => {
      const user = await tx.users.get(old.userId);
      if (!user?.cardToken) return undefined;
      const p = payments.newAuth(old.userId, old.purpose, old.refId, old.amountMinor, old.currency);
      await tx.payments.insert(p);
      return { p, token: user.cardToken };
    });
    if (!fresh) return this.failed(old, 'NO_SAVED_CARD', 'no saved card to re-authorise with');
    // The renter is not there: an off-session payment on the card they saved for later ones.
    const auth = await payments.authorise(fresh.p.id, fresh.token, { offSession: true });
    if (!auth.ok) {
      // The renter's step is a courtesy: the operator's flag and the audit come regardless.
      if (auth.code === 'AUTHENTICATION_REQUIRED')
        await this.askRenter(old).catch((err: Error) =>
          this.deps.logger.warn(
            { err: err.message, paymentId: old.id },
            'telling the renter that their bank wants a confirmation failed',
          ),
        );
      return this.failed(old, auth.code, auth.message, fresh.p.id);
    }
    const moved = await store.transaction(async (tx) => {
      const now = await tx.payments.get(old.id);
      const records =
        old.purpose === 'order'
          ? [await tx.orders.get(old.refId ?? '')]
          : [await tx.reservations.get(old.refId ?? '')];
      const r = records[0];
      const pickup = r && 'orderId' in r && r.orderId ? await tx.orders.get(r.orderId) : undefined;
      if (now?.state !== 'authorised' || r?.paymentId !== old.id) {
        // Captured, voided or moved meanwhile: the new authorisation is not needed.
        await orders.voidPayment(tx, fresh.p.id);
        return false;
      }
      if (old.purpose === 'order') await tx.orders.update(r.id, { paymentId: fresh.p.id });
      else await tx.reservations.update(r.id, { paymentId: fresh.p.id });
      if (pickup?.paymentId === old.id)
        await tx.orders.update(pickup.id, { paymentId: fresh.p.id });
      await orders.voidPayment(tx, old.id);
      await audit(tx, who, at(), 'payment.reauthorised', old.id, {
        to: fresh.p.id,
        purpose: old.purpose,
        refId: old.refId,
        lapsedAt: old.authorisedUntil,
        authorisedUntil: auth.payment.authorisedUntil,
      });
      return true;
    });
    if (!moved) return { ok: false, reason: 'the payment was settled meanwhile' };
    logger.info({ from: old.id, to: fresh.p.id }, 'authorisation renewed before it lapsed');
    return { ok: true, paymentId: fresh.p.id };
  }

  /**
   * The card's issuer wants the renter to confirm the renewal, which cannot be done without
   * them: the renter is e-mailed (payment_confirmation, once per payment) about the order or
   * the reservation the payment holds money for, and the order (a reservation's pickup order)
   * says so in a step the renter's page and live stream show; the operator gets
   * AUTHORISATION_AT_RISK with this reason (reconciliation).
   */
  private async askRenter(old: PaymentRecord): Promise<void> {
    const { store, orders, events } = this.deps;
    await store.transaction(async (tx) => {
      const r =
        old.purpose === 'reservation' ? await tx.reservations.get(old.refId ?? '') : undefined;
      const pickup = old.purpose === 'reservation' ? r?.orderId : old.refId;
      const o = pickup ? await tx.orders.get(pickup) : undefined;
      if (r?.paymentId === old.id && !o)
        await events?.emit(tx, {
          type: 'payment_confirmation',
          payment: old,
          about: { kind: 'reservation', record: r },
        });
      if (o?.paymentId !== old.id) return;
      await events?.emit(tx, {
        type: 'payment_confirmation',
        payment: old,
        about: r ? { kind: 'reservation', record: r } : { kind: 'order', record: o },
      });
      await orders.step(
        tx,
        o,
        o.state,
        `your card's bank wants you to confirm the renewal of this payment's hold, which lapses at ${old.authorisedUntil ?? 'soon'}; ask us for help, or pay with another card`,
        {},
      );
    });
  }

  private async failed(
    old: PaymentRecord,
    code: string,
    message: string,
    attempt?: string,
  ): Promise<ReauthoriseOutcome> {
    await this.deps.store.transaction((tx) =>
      audit(tx, who, this.deps.now().toISOString(), 'payment.reauthorise_failed', old.id, {
        code,
        message,
        ...(attempt ? { attempt } : {}),
      }),
    );
    this.deps.logger.warn({ paymentId: old.id, code }, 'could not renew an authorisation');
    return { ok: false, reason: `${code}: ${message}` };
  }
}
