import { randomUUID } from 'node:crypto';
import type { Repos, Store } from '../../store/types.js';
import { type Actor, audit, SYSTEM } from '../audit/audit.js';
import type { Deposits } from '../billing/deposits.js';
import { paymentRefusal } from '../billing/deposits.js';
import type { RentalConfig } from '../config.js';
import { notFound, RentalError } from '../errors.js';
import type { Payments } from '../payments/payments.js';
import type { ChargeKind, OrderRecord, RentalRecord } from '../store/types.js';

const DAY_MS = 24 * 3600 * 1000;

export interface RentalsDeps {
  store: Store;
  config: RentalConfig;
  payments: Payments;
  deposits: Deposits;
  now: () => Date;
}

export async function rentalView(tx: Repos, r: RentalRecord) {
  const charges = await tx.rental.charges.listByRental(r.id);
  return {
    id: r.id,
    orderId: r.orderId,
    diskId: r.diskId,
    diskTypeId: r.diskTypeId,
    kioskId: r.kioskId,
    startedAt: r.startedAt,
    dueAt: r.dueAt,
    returnedAt: r.returnedAt ?? undefined,
    returnKioskId: r.returnKioskId ?? undefined,
    state: r.state,
    charges: charges.map((c) => ({
      kind: c.kind,
      amountMinor: c.amountMinor,
      currency: c.currency,
      at: c.at,
    })),
    totalMinor: charges.reduce((n, c) => n + c.amountMinor, 0),
  };
}

/** Rentals: opened on capture, extended, returned at any kiosk, overdue fees, lost disks. */
export class Rentals {
  constructor(private readonly deps: RentalsDeps) {
    deps.payments.onSettle('extension', async (tx, p, state) => {
      if (state !== 'captured' || !p.refId) return;
      const r = await tx.rental.rentals.get(p.refId);
      if (!r) return;
      const type = await tx.rental.diskTypes.get(r.diskTypeId);
      const days =
        type && type.pricePerDayMinor > 0 ? Math.round(p.capturedMinor / type.pricePerDayMinor) : 0;
      await this.applyExtension(tx, r, days, p.capturedMinor, p.id);
    });
  }

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  /** Opens the rental of a completed order (inside `tx`); returns the existing one if any. */
  async open(
    tx: Repos,
    order: OrderRecord,
    amountMinor: number,
    paymentId: string | null,
  ): Promise<RentalRecord> {
    const existing = await tx.rental.rentals.findByOrder(order.id);
    if (existing) return existing;
    const now = this.deps.now();
    const r: RentalRecord = {
      id: `rnt-${randomUUID()}`,
      userId: order.userId,
      orderId: order.id,
      diskId: order.diskId ?? 'unknown',
      diskTypeId: order.diskTypeId,
      kioskId: order.kioskId,
      startedAt: now.toISOString(),
      dueAt: new Date(now.getTime() + order.days * DAY_MS).toISOString(),
      returnedAt: null,
      returnKioskId: null,
      state: 'open',
      overdueDaysCharged: 0,
    };
    await tx.rental.rentals.insert(r);
    await this.charge(tx, r, 'rental', amountMinor, paymentId);
    await audit(tx, SYSTEM('rentals'), r.startedAt, 'rental.opened', r.id, {
      orderId: order.id,
      diskId: r.diskId,
    });
    return r;
  }

  private async charge(
    tx: Repos,
    r: RentalRecord,
    kind: ChargeKind,
    amountMinor: number,
    paymentId: string | null,
  ) {
    await tx.rental.charges.insert({
      id: `chg-${randomUUID()}`,
      userId: r.userId,
      rentalId: r.id,
      reservationId: null,
      kind,
      amountMinor,
      currency: this.deps.config.currency,
      paymentId,
      at: this.nowIso(),
    });
  }

  async listForUser(userId: string) {
    return this.deps.store.transaction(async (tx) =>
      Promise.all((await tx.rental.rentals.listByUser(userId)).map((r) => rentalView(tx, r))),
    );
  }

  /**
   * Extends an open rental by `days`, charged at the type's price: to the saved card when
   * there is one (authorise + capture), otherwise from the deposit. NOT_FOUND for another
   * user's rental; RENTAL_CLOSED (409) when returned or lost; NO_PAYMENT_METHOD (402).
   */
  async extend(userId: string, rentalId: string, days: number, who: Actor) {
    const plan = await this.deps.store.transaction(async (tx) => {
      const r = await tx.rental.rentals.get(rentalId);
      if (!r || r.userId !== userId) throw notFound(`rental ${rentalId}`);
      if (r.state !== 'open' && r.state !== 'overdue')
        throw new RentalError('RENTAL_CLOSED', `rental ${rentalId} is ${r.state}`, 409);
      const type = await tx.rental.diskTypes.get(r.diskTypeId);
      if (!type)
        throw new RentalError('VALIDATION', `disk type ${r.diskTypeId} no longer exists`, 409);
      const amount = type.pricePerDayMinor * days;
      const user = (await tx.rental.users.get(userId))!;
      if (user.cardToken) {
        const p = this.deps.payments.newAuth(userId, 'extension', r.id, amount, type.currency, {
          captureAfterAuth: true,
        });
        await tx.rental.payments.insert(p);
        await audit(tx, who, this.nowIso(), 'rental.extension_requested', r.id, {
          days,
          amountMinor: amount,
        });
        return { paymentId: p.id, cardToken: user.cardToken };
      }
      if ((await tx.rental.deposits.balance(userId)) - amount < 0)
        throw new RentalError(
          'NO_PAYMENT_METHOD',
          'add a card (deposit top-up) to extend this rental',
          402,
        );
      await this.deps.deposits.take(tx, userId, amount, r.id, 'extension');
      await this.applyExtension(tx, r, days, amount, null);
      await audit(tx, who, this.nowIso(), 'rental.extended', r.id, {
        days,
        amountMinor: amount,
        from: 'deposit',
      });
      return undefined;
    });
    if (plan) {
      const out = await this.deps.payments.authorise(plan.paymentId, plan.cardToken);
      if (!out.ok) throw paymentRefusal(out.code, out.message);
    }
    return this.deps.store.transaction(async (tx) =>
      rentalView(tx, (await tx.rental.rentals.get(rentalId))!),
    );
  }

  private async applyExtension(
    tx: Repos,
    r: RentalRecord,
    days: number,
    amount: number,
    paymentId: string | null,
  ) {
    const dueAt = new Date(Date.parse(r.dueAt) + days * DAY_MS).toISOString();
    await tx.rental.rentals.update(r.id, {
      dueAt,
      ...(r.state === 'overdue' && dueAt > this.nowIso() ? { state: 'open' } : {}),
    });
    await this.charge(tx, r, 'extension', amount, paymentId);
  }

  /**
   * A disk came back at `kioskId` (inside the DiskReturned event's transaction): closes its
   * open, overdue or lost rental with the overdue days charged up to now. A disk reported
   * lost and then returned gets the lost-disk charge back on the deposit.
   */
  async returned(tx: Repos, diskId: string, kioskId: string): Promise<RentalRecord | undefined> {
    const r = await tx.rental.rentals.findUnreturnedByDisk(diskId);
    if (!r) return undefined;
    const wasLost = r.state === 'lost';
    if (!wasLost) await this.accrue(tx, r);
    const cur = (await tx.rental.rentals.get(r.id))!;
    if (wasLost) {
      const lost = (await tx.rental.charges.listByRental(r.id))
        .filter((c) => c.kind === 'lost')
        .reduce((n, c) => n + c.amountMinor, 0);
      await this.deps.deposits.credit(tx, r.userId, lost, r.id, 'lost disk returned');
      if (lost > 0) await this.charge(tx, cur, 'lost_reversed', -lost, null);
    }
    const at = this.nowIso();
    await tx.rental.rentals.update(r.id, {
      state: 'returned',
      returnedAt: at,
      returnKioskId: kioskId,
    });
    await audit(tx, { actor: `kiosk:${kioskId}`, kioskId }, at, 'rental.returned', r.id, {
      diskId,
      wasLost,
    });
    return tx.rental.rentals.get(r.id);
  }

  /**
   * Charges overdue days up to now (at most `overdueMaxDays`), taken from the deposit; past
   * that the disk is lost and the lost-disk charge is taken from the deposit.
   */
  async accrue(tx: Repos, r: RentalRecord): Promise<void> {
    const now = this.deps.now().getTime();
    const due = Date.parse(r.dueAt);
    if (now <= due || r.state === 'returned' || r.state === 'lost') return;
    const cfg = this.deps.config;
    const overdueDays = Math.ceil((now - due) / DAY_MS);
    const chargeable = Math.min(overdueDays, cfg.overdueMaxDays);
    const at = this.nowIso();
    for (let d = r.overdueDaysCharged + 1; d <= chargeable; d++) {
      await this.charge(tx, r, 'overdue', cfg.overdueFeePerDayMinor, null);
      await this.deps.deposits.take(
        tx,
        r.userId,
        cfg.overdueFeePerDayMinor,
        r.id,
        `overdue day ${d}`,
      );
    }
    const state = overdueDays > cfg.overdueMaxDays ? 'lost' : 'overdue';
    await tx.rental.rentals.update(r.id, {
      overdueDaysCharged: Math.max(r.overdueDaysCharged, chargeable),
      state,
    });
    if (state === 'lost') {
      await this.charge(tx, r, 'lost', cfg.lostDiskChargeMinor, null);
      await this.deps.deposits.take(tx, r.userId, cfg.lostDiskChargeMinor, r.id, 'lost disk');
      await audit(tx, SYSTEM('overdue'), at, 'rental.lost', r.id, { overdueDays });
    } else if (chargeable > r.overdueDaysCharged) {
      await audit(tx, SYSTEM('overdue'), at, 'rental.overdue_charged', r.id, { days: chargeable });
    }
  }

  /** Accrues every open or overdue rental (reconciliation job). */
  async accrueAll(): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      for (const r of await tx.rental.rentals.listByStates(['open', 'overdue']))
        await this.accrue(tx, r);
    });
  }
}
