import { randomUUID } from 'node:crypto';
import { type Actor, audit } from '../../audit.js';
import type {
  ExtensionRecord,
  PaymentRecord,
  PaymentState,
  RentalRecord,
  Store,
  Tx,
} from '../../store/types.js';
import type { Deposits } from '../billing/deposits.js';
import { paymentRefusal } from '../billing/deposits.js';
import { notFound, RentalError } from '../errors.js';
import type { Payments } from '../payments/payments.js';
import { type Rentals, rentalView } from './rentals.js';

const DAY_MS = 24 * 3600 * 1000;

/** Payment states that end an extension's payment without money taken. */
const NOT_PAID: readonly PaymentState[] = ['declined', 'failed', 'voided', 'capture_failed'];

export interface ExtensionsDeps {
  store: Store;
  payments: Payments;
  deposits: Deposits;
  rentals: Rentals;
  now: () => Date;
}

/** What `days` more of a rental cost and what they give (GET /api/rentals/:id/extension-quote). */
export interface ExtensionQuote {
  rentalId: string;
  days: number;
  amountMinor: number;
  currency: string;
  pricePerDayMinor: number;
  /** The due date now, and after this extension (and any still being paid). */
  dueAt: string;
  newDueAt: string;
  /** The disk type's longest rental, the days booked so far (paid or being paid), what is left. */
  maxDays: number;
  daysSoFar: number;
  maxExtraDays: number;
  /** The saved card (charged at once) or, without one, the deposit. */
  payWith: 'card' | 'deposit';
  cardLast4?: string;
}

/**
 * Extending a rental, within the rules: the whole rental (its days plus every extension,
 * applied or still being paid) stays within the disk type's `maxDays` (409 RENTAL_TOO_LONG,
 * with `maxExtraDays`); `quote()` prices an extension before anything is charged, and
 * `extend()` may name the quoted amount (409 QUOTE_CHANGED when the price moved). Each request
 * is one `rental_extensions` row, written in the same transaction that checked the limit, so
 * parallel extensions are decided one after another: they can never overshoot `maxDays`, and
 * each is charged once for exactly its own days (applied by the payment's settle hook, or at
 * once when taken from the deposit). An optional Idempotency-Key makes a retried request the
 * same extension.
 */
export class Extensions {
  constructor(private readonly deps: ExtensionsDeps) {
    deps.payments.onSettle('extension', (tx, p, state) => this.settled(tx, p, state));
  }

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  /** Prices `days` more of the user's rental (inside `tx`), refusing what the rules forbid. */
  private async price(tx: Tx, userId: string, rentalId: string, days: number) {
    const r = await tx.rentals.get(rentalId);
    if (!r || r.userId !== userId) throw notFound(`rental ${rentalId}`);
    if (r.state !== 'open' && r.state !== 'overdue')
      throw new RentalError('RENTAL_CLOSED', `rental ${rentalId} is ${r.state}`, 409);
    const type = await tx.diskTypes.get(r.diskTypeId);
    if (!type)
      throw new RentalError('VALIDATION', `disk type ${r.diskTypeId} no longer exists`, 409);
    const pendingDays = (await tx.extensions.listByRental(r.id))
      .filter((e) => e.state === 'pending')
      .reduce((n, e) => n + e.days, 0);
    const booked = Math.round((Date.parse(r.dueAt) - Date.parse(r.startedAt)) / DAY_MS);
    const daysSoFar = booked + pendingDays;
    const maxExtraDays = Math.max(0, type.maxDays - daysSoFar);
    if (days > maxExtraDays)
      throw new RentalError(
        'RENTAL_TOO_LONG',
        `a ${type.id} rental lasts at most ${type.maxDays} days and ${daysSoFar} are booked: at most ${maxExtraDays} more`,
        409,
        { maxDays: type.maxDays, daysSoFar, maxExtraDays },
      );
    const amountMinor = type.pricePerDayMinor * days;
    const user = (await tx.users.get(userId))!;
    if (!user.cardToken && (await tx.deposits.balance(userId)) < amountMinor)
      throw new RentalError(
        'NO_PAYMENT_METHOD',
        'add a card (deposit top-up) to extend this rental',
        402,
      );
    const quote: ExtensionQuote = {
      rentalId: r.id,
      days,
      amountMinor,
      currency: type.currency,
      pricePerDayMinor: type.pricePerDayMinor,
      dueAt: r.dueAt,
      newDueAt: new Date(Date.parse(r.dueAt) + (pendingDays + days) * DAY_MS).toISOString(),
      maxDays: type.maxDays,
      daysSoFar,
      maxExtraDays,
      payWith: user.cardToken ? 'card' : 'deposit',
      ...(user.cardToken && user.cardLast4 ? { cardLast4: user.cardLast4 } : {}),
    };
    return { r, quote, cardToken: user.cardToken };
  }

  /** The price and outcome of extending by `days`, nothing charged; refusals as extend(). */
  async quote(userId: string, rentalId: string, days: number): Promise<ExtensionQuote> {
    return this.deps.store.transaction(
      async (tx) => (await this.price(tx, userId, rentalId, days)).quote,
    );
  }

  /**
   * Extends an open (or overdue) rental by `days` at the type's price: the saved card is
   * charged (authorise + capture; the due date moves once captured), else the deposit (at
   * once). NOT_FOUND for another user's rental; RENTAL_CLOSED (409); RENTAL_TOO_LONG (409);
   * QUOTE_CHANGED (409) when `quotedAmountMinor` is not the price; NO_PAYMENT_METHOD (402);
   * CARD_DECLINED etc. (402); IDEMPOTENCY_MISMATCH (409) for a key used for other days.
   */
  async extend(
    userId: string,
    rentalId: string,
    days: number,
    who: Actor,
    opts: { idempotencyKey?: string; quotedAmountMinor?: number } = {},
  ) {
    const plan = await this.deps.store.transaction(async (tx) => {
      if (opts.idempotencyKey) {
        const prev = await tx.extensions.findByIdempotencyKey(userId, opts.idempotencyKey);
        if (prev) {
          if (prev.rentalId !== rentalId || prev.days !== days)
            throw new RentalError(
              'IDEMPOTENCY_MISMATCH',
              'this Idempotency-Key was used for another extension; use a new key',
              409,
            );
          return { replay: prev };
        }
      }
      const { r, quote, cardToken } = await this.price(tx, userId, rentalId, days);
      if (opts.quotedAmountMinor !== undefined && opts.quotedAmountMinor !== quote.amountMinor)
        throw new RentalError(
          'QUOTE_CHANGED',
          `this extension costs ${quote.amountMinor} now, not ${opts.quotedAmountMinor}; ask for a new quote`,
          409,
          { amountMinor: quote.amountMinor, currency: quote.currency },
        );
      const at = this.nowIso();
      const ext: ExtensionRecord = {
        id: `ext-${randomUUID()}`,
        rentalId: r.id,
        userId,
        idempotencyKey: opts.idempotencyKey ?? null,
        days,
        amountMinor: quote.amountMinor,
        currency: quote.currency,
        paymentId: null,
        state: 'pending',
        createdAt: at,
        updatedAt: at,
      };
      const details = { extensionId: ext.id, days, amountMinor: quote.amountMinor };
      if (cardToken) {
        const p = this.deps.payments.newAuth(
          userId,
          'extension',
          r.id,
          quote.amountMinor,
          quote.currency,
          { captureAfterAuth: true },
        );
        await tx.payments.insert(p);
        await tx.extensions.insert({ ...ext, paymentId: p.id });
        await audit(tx, who, at, 'rental.extension_requested', r.id, details);
        return { paymentId: p.id, cardToken };
      }
      await this.deps.deposits.take(tx, userId, quote.amountMinor, r.id, 'extension');
      await tx.extensions.insert({ ...ext, state: 'applied' });
      await this.apply(tx, r, days, quote.amountMinor, null);
      await audit(tx, who, at, 'rental.extended', r.id, { ...details, from: 'deposit' });
      return undefined;
    });
    if (plan?.paymentId && plan.cardToken) {
      const out = await this.deps.payments.authorise(plan.paymentId, plan.cardToken);
      if (!out.ok) throw paymentRefusal(out.code, out.message);
    } else if (plan?.replay?.state === 'failed' && plan.replay.paymentId) {
      const paymentId = plan.replay.paymentId;
      const p = await this.deps.store.transaction((tx) => tx.payments.get(paymentId));
      throw paymentRefusal(
        p?.failureCode ?? 'PAYMENT_REFUSED',
        `the payment for this extension was refused (${p?.failureCode ?? p?.state})`,
      );
    }
    return this.deps.store.transaction(async (tx) =>
      rentalView(tx, (await tx.rentals.get(rentalId))!),
    );
  }

  /** Moves the due date by `days` (an overdue rental due in the future is open again) and charges. */
  private async apply(
    tx: Tx,
    r: RentalRecord,
    days: number,
    amountMinor: number,
    paymentId: string | null,
  ): Promise<void> {
    const dueAt = new Date(Date.parse(r.dueAt) + days * DAY_MS).toISOString();
    await tx.rentals.update(r.id, {
      dueAt,
      ...(r.state === 'overdue' && dueAt > this.nowIso() ? { state: 'open' } : {}),
    });
    await this.deps.rentals.charge(tx, r, 'extension', amountMinor, paymentId);
  }

  /** An extension's payment settled (inside its transaction): apply its days once, or fail it. */
  private async settled(tx: Tx, p: PaymentRecord, state: PaymentState): Promise<void> {
    const ext = await tx.extensions.findByPayment(p.id);
    if (!ext) return this.settledWithoutRecord(tx, p, state);
    if (ext.state !== 'pending') return;
    if (state === 'captured') {
      const r = await tx.rentals.get(ext.rentalId);
      if (r) await this.apply(tx, r, ext.days, p.capturedMinor, p.id);
      await tx.extensions.update(ext.id, { state: 'applied', updatedAt: this.nowIso() });
    } else if (NOT_PAID.includes(state))
      await tx.extensions.update(ext.id, { state: 'failed', updatedAt: this.nowIso() });
  }

  /** A payment requested before extensions had rows (migration 005): its days from its amount. */
  private async settledWithoutRecord(tx: Tx, p: PaymentRecord, state: PaymentState) {
    const r = state === 'captured' && p.refId ? await tx.rentals.get(p.refId) : undefined;
    const type = r ? await tx.diskTypes.get(r.diskTypeId) : undefined;
    if (!r || !type || type.pricePerDayMinor <= 0) return;
    const days = Math.round(p.capturedMinor / type.pricePerDayMinor);
    await this.apply(tx, r, days, p.capturedMinor, p.id);
  }
}
