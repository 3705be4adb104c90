import { randomUUID } from 'node:crypto';
import { type Actor, audit } from '../../audit.js';
import { isApiErrorCode } from '../../error-codes.js';
import type { Store, Tx } from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import { RentalError } from '../errors.js';
import { isActiveOrder } from '../orders/order-view.js';
import type { Payments } from '../payments/payments.js';
import type { PaymentProvider, PayWith } from '../payments/provider.js';
import type { RenterEvents } from '../renter-events.js';
import type { RentalSettings } from './rental-settings.js';

export interface DepositsDeps {
  store: Store;
  config: RentalConfig;
  /** The deposit a renter must hold (stored rental settings). */
  settings: RentalSettings;
  payments: Payments;
  provider: PaymentProvider;
  now: () => Date;
  /** Told about money moved for the renter (receipts); absent: nobody listens. */
  events?: RenterEvents;
}

/** A saved card: the provider's reusable token and the card's last four digits. */
export interface TokenizedCard {
  token: string;
  last4: string;
}

export type RefusalReason =
  | 'NO_DEPOSIT'
  | 'OVERDUE_RENTAL'
  | 'LOST_DISK'
  | 'PAYMENT_ISSUE'
  | 'OPEN_RENTAL_LIMIT'
  | 'RESERVATION_LIMIT';

/** What the permission check is for: renting now, or reserving (which also counts reservations). */
export type Purpose = 'rent' | 'reserve';

/**
 * Deposits (held as captured money, tracked as a ledger of entries) and a renter's standing:
 * the 1st instruction's permission check.
 */
export class Deposits {
  constructor(private readonly deps: DepositsDeps) {
    deps.payments.onSettle('deposit', async (tx, p, state) => {
      if (state !== 'captured') return;
      await deps.events?.emit(tx, { type: 'payment', payment: p });
      await tx.deposits.insert({
        id: `dep-${randomUUID()}`,
        userId: p.userId,
        kind: 'topup',
        amountMinor: p.capturedMinor,
        currency: p.currency,
        paymentId: p.id,
        rentalId: null,
        at: this.deps.now().toISOString(),
        note: null,
      });
    });
    deps.payments.onSettle('refund', async (tx, p, state) => {
      if (state === 'refunded') await deps.events?.emit(tx, { type: 'payment', payment: p });
      if (state !== 'refund_failed' || p.refId !== `deposit:${p.userId}`) return;
      // The money did not go back: put it back on the deposit and let an operator look.
      await tx.deposits.insert({
        id: `dep-${randomUUID()}`,
        userId: p.userId,
        kind: 'credit',
        amountMinor: p.amountMinor,
        currency: p.currency,
        paymentId: p.id,
        rentalId: null,
        at: this.deps.now().toISOString(),
        note: 'refund failed; amount restored',
      });
    });
  }

  async view(tx: Tx, userId: string) {
    return {
      heldMinor: await tx.deposits.balance(userId),
      currency: this.deps.config.currency,
    };
  }

  /**
   * What a renter holds or has coming (inside `tx`): `open` counts unreturned rentals (open,
   * overdue, lost), orders in flight that have no rental yet, and reservations preparing or
   * ready (each becomes a rental at pickup; its pickup order is counted once, through it);
   * `reservations` the reservations preparing or ready.
   */
  async holdings(tx: Tx, userId: string): Promise<{ open: number; reservations: number }> {
    const rentals = (await tx.rentals.listByUser(userId)).filter((r) => r.state !== 'returned');
    const active = (await tx.reservations.listByUser(userId, 1000)).filter(
      (r) => r.state === 'preparing' || r.state === 'ready',
    );
    const counted = new Set([
      ...rentals.map((r) => r.orderId),
      ...active.flatMap((r) => (r.orderId ? [r.orderId] : [])),
    ]);
    const inFlight = (await tx.orders.listByUser(userId, 1000)).filter(
      (o) => isActiveOrder(o) && !counted.has(o.id),
    );
    return { open: rentals.length + inFlight.length + active.length, reservations: active.length };
  }

  /**
   * Why the user may not rent (or, with `purpose` 'reserve', reserve) now; empty: may.
   * The per-renter limits (`maxOpenRentals`, `maxActiveReservations`) are counted here, inside
   * the transaction that creates the order or reservation, so parallel requests cannot pass
   * them together.
   */
  async reasons(tx: Tx, userId: string, purpose: Purpose = 'rent'): Promise<RefusalReason[]> {
    const out: RefusalReason[] = [];
    if ((await tx.deposits.balance(userId)) < (await this.deps.settings.get(tx)).depositMinor)
      out.push('NO_DEPOSIT');
    const now = this.deps.now().toISOString();
    const rentals = await tx.rentals.listByUser(userId);
    if (rentals.some((r) => r.state === 'overdue' || (r.state === 'open' && r.dueAt < now)))
      out.push('OVERDUE_RENTAL');
    if (rentals.some((r) => r.state === 'lost')) out.push('LOST_DISK');
    if ((await tx.payments.listByUser(userId)).some((p) => p.state === 'capture_failed'))
      out.push('PAYMENT_ISSUE');
    const held = await this.holdings(tx, userId);
    if (held.open >= this.deps.config.maxOpenRentals) out.push('OPEN_RENTAL_LIMIT');
    if (purpose === 'reserve' && held.reservations >= this.deps.config.maxActiveReservations)
      out.push('RESERVATION_LIMIT');
    return out;
  }

  /** Refuses (403 NOT_ALLOWED, with the reasons and the limits) when the user may not rent now. */
  async assertMayRent(tx: Tx, userId: string, purpose: Purpose = 'rent'): Promise<void> {
    const reasons = await this.reasons(tx, userId, purpose);
    if (reasons.length)
      throw new RentalError(
        'NOT_ALLOWED',
        `${purpose === 'rent' ? 'renting' : 'reserving'} is not allowed now: ${reasons.join(', ')}`,
        403,
        {
          reasons,
          maxOpenRentals: this.deps.config.maxOpenRentals,
          maxActiveReservations: this.deps.config.maxActiveReservations,
        },
      );
  }

  /**
   * Saves a tokenised card as the user's card for later charges (`useSaved`, extensions).
   * Called only after a payment with it was authorised and only when the renter asked
   * (`saveCard: true`): a refused card never replaces the saved one.
   */
  async saveCard(userId: string, card: TokenizedCard): Promise<void> {
    await this.deps.store.transaction((tx) =>
      tx.users.update(userId, { cardToken: card.token, cardLast4: card.last4 }),
    );
  }

  /**
   * Tops up the deposit: charges the payment method (authorise + capture) and records the entry
   * once captured; with `saveCard`, the card is saved once the charge was authorised.
   */
  async topUp(userId: string, amountMinor: number, card: PayWith, who: Actor, saveCard = false) {
    const p = this.deps.payments.newAuth(
      userId,
      'deposit',
      `deposit:${userId}`,
      amountMinor,
      this.deps.config.currency,
      {
        captureAfterAuth: true,
      },
    );
    await this.deps.store.transaction(async (tx) => {
      await tx.payments.insert(p);
      await audit(tx, who, this.deps.now().toISOString(), 'deposit.topup_requested', p.id, {
        amountMinor,
      });
    });
    const out = await this.deps.payments.authorise(
      p.id,
      card.paymentMethod,
      saveCard ? { saveFor: { userId } } : {},
    );
    if (!out.ok) throw paymentRefusal(out.code, out.message);
    if (out.saved) await this.saveCard(userId, out.saved);
    return this.deps.store.transaction((tx) => this.view(tx, userId));
  }

  /**
   * Refunds the whole deposit to the cards it came from. RENTAL_OPEN (409) while a rental is
   * open, overdue or lost or an order is in flight.
   */
  async refund(userId: string, who: Actor) {
    const refunds = await this.deps.store.transaction(async (tx) => {
      const rentals = await tx.rentals.listByUser(userId);
      const inFlight = (await tx.orders.listByUser(userId, 1000)).some(isActiveOrder);
      if (inFlight || rentals.some((r) => r.state !== 'returned'))
        throw new RentalError(
          'RENTAL_OPEN',
          'return every disk before the deposit can be refunded',
          409,
        );
      let left = await tx.deposits.balance(userId);
      const at = this.deps.now().toISOString();
      const rows = [];
      const topups = (await tx.payments.listByUser(userId)).filter(
        (p) => p.purpose === 'deposit' && p.state === 'captured',
      );
      for (const p of topups) {
        if (left <= 0) break;
        const already = (await tx.payments.listChildren(p.id))
          .filter((c) => c.state !== 'refund_failed')
          .reduce((n, c) => n + c.amountMinor, 0);
        const amount = Math.min(left, p.capturedMinor - already);
        if (amount <= 0) continue;
        const r = this.deps.payments.newRefund(p, amount, `deposit:${userId}`);
        await tx.payments.insert(r);
        await tx.deposits.insert({
          id: `dep-${randomUUID()}`,
          userId,
          kind: 'refund',
          amountMinor: -amount,
          currency: p.currency,
          paymentId: r.id,
          rentalId: null,
          at,
          note: null,
        });
        left -= amount;
        rows.push(r.id);
      }
      await audit(tx, who, at, 'deposit.refund_requested', userId, { refunds: rows });
      return rows;
    });
    for (const id of refunds) await this.deps.payments.refund(id);
    return this.deps.store.transaction((tx) => this.view(tx, userId));
  }

  /**
   * Takes up to `amountMinor` from the deposit (inside `tx`); returns what was taken. A
   * shortfall is flagged for an operator.
   */
  async take(
    tx: Tx,
    userId: string,
    amountMinor: number,
    rentalId: string,
    note: string,
  ): Promise<number> {
    const balance = await tx.deposits.balance(userId);
    const taken = Math.max(0, Math.min(balance, amountMinor));
    const at = this.deps.now().toISOString();
    if (taken > 0)
      await tx.deposits.insert({
        id: `dep-${randomUUID()}`,
        userId,
        kind: 'charge',
        amountMinor: -taken,
        currency: this.deps.config.currency,
        paymentId: null,
        rentalId,
        at,
        note,
      });
    if (taken < amountMinor)
      await tx.flags.raise(
        'DEPOSIT_SHORTFALL',
        `${rentalId}:${note}`,
        `deposit of ${userId} covered ${taken} of ${amountMinor} (${note})`,
        at,
      );
    return taken;
  }

  /** Puts money back on the deposit (inside `tx`). */
  async credit(
    tx: Tx,
    userId: string,
    amountMinor: number,
    rentalId: string,
    note: string,
  ): Promise<void> {
    if (amountMinor <= 0) return;
    await tx.deposits.insert({
      id: `dep-${randomUUID()}`,
      userId,
      kind: 'credit',
      amountMinor,
      currency: this.deps.config.currency,
      paymentId: null,
      rentalId,
      at: this.deps.now().toISOString(),
      note,
    });
  }
}

/** A refused payment as the API answers it (a stored code outside the vocabulary: PAYMENT_REFUSED). */
export function paymentRefusal(code: string, message: string): RentalError {
  const c = isApiErrorCode(code) ? code : 'PAYMENT_REFUSED';
  return new RentalError(c, message, c === 'PAYMENT_UNAVAILABLE' ? 503 : 402);
}
