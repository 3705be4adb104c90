import { randomUUID } from 'node:crypto';
import { audit, SYSTEM } from '../../audit.js';
import type {
  ChargeKind,
  ChargeRecord,
  OrderRecord,
  RentalRecord,
  Store,
  Tx,
} from '../../store/types.js';
import type { Deposits } from '../billing/deposits.js';
import type { RentalSettings } from '../billing/rental-settings.js';
import type { RentalConfig } from '../config.js';
import type { Payments } from '../payments/payments.js';
import type { RenterEvents } from '../renter-events.js';

const DAY_MS = 24 * 3600 * 1000;

/** When the kiosk saw the order's disk taken (the newest step carrying `takenAt`), if known. */
export function takenAtOf(order: OrderRecord): string | undefined {
  return order.steps.findLast((s) => s.takenAt !== undefined)?.takenAt;
}

export interface RentalsDeps {
  store: Store;
  config: RentalConfig;
  /** The late fee and lost-disk charge of rentals sold before their terms were kept. */
  settings: RentalSettings;
  payments: Payments;
  deposits: Deposits;
  now: () => Date;
  /** Told about every charge recorded (receipts); absent: nobody listens. */
  events?: RenterEvents;
}

export async function rentalView(tx: Tx, r: RentalRecord) {
  const charges = await tx.charges.listByRental(r.id);
  const pending = (await tx.extensions.listByRental(r.id)).filter((e) => e.state === 'pending');
  const type = await tx.diskTypes.get(r.diskTypeId);
  const content = type ? await tx.content.get(type.contentId) : undefined;
  const site = await tx.sites.get(r.kioskId);
  return {
    id: r.id,
    orderId: r.orderId,
    diskId: r.diskId,
    diskTypeId: r.diskTypeId,
    kioskId: r.kioskId,
    /** What the renter calls it: the content's title (the disk type id when it is gone). */
    contentTitle: content?.title ?? r.diskTypeId,
    capacityBytes: type?.capacityBytes ?? null,
    kioskName: site?.name ?? r.kioskId,
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
    /** The late fee and lost-disk charge this rental was sold with. */
    ...(r.overdueFeePerDayMinor != null ? { overdueFeePerDayMinor: r.overdueFeePerDayMinor } : {}),
    ...(r.lostDiskChargeMinor != null ? { lostDiskChargeMinor: r.lostDiskChargeMinor } : {}),
    /** Days of extensions still being paid (the due date moves once they are captured). */
    pendingExtensionDays: pending.reduce((n, e) => n + e.days, 0),
  };
}

/** Rentals: opened on capture, returned at any kiosk, overdue fees, lost disks (extensions.ts extends them). */
export class Rentals {
  constructor(private readonly deps: RentalsDeps) {}

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  /**
   * Opens the rental of a completed order (inside `tx`); returns the existing one if any. It
   * starts when the kiosk saw the disk taken (`startedAt`, default the order's step carrying
   * `takenAt`), else now; it is due `days` after its start.
   */
  async open(
    tx: Tx,
    order: OrderRecord,
    amountMinor: number,
    paymentId: string | null,
    startedAt: string | undefined = takenAtOf(order),
  ): Promise<RentalRecord> {
    const existing = await tx.rentals.findByOrder(order.id);
    if (existing) return existing;
    const now = startedAt ? new Date(startedAt) : this.deps.now();
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
      // The terms the renter was shown when paying (kept on the order), never today's.
      ...(await this.deps.settings.termsOf(tx, order)),
    };
    await tx.rentals.insert(r);
    await this.charge(tx, r, 'rental', amountMinor, paymentId);
    await audit(tx, SYSTEM('rentals'), r.startedAt, 'rental.opened', r.id, {
      orderId: order.id,
      diskId: r.diskId,
    });
    return r;
  }

  /** Records a charge of `r` (inside `tx`). */
  async charge(
    tx: Tx,
    r: RentalRecord,
    kind: ChargeKind,
    amountMinor: number,
    paymentId: string | null,
  ) {
    const charge: ChargeRecord = {
      id: `chg-${randomUUID()}`,
      userId: r.userId,
      rentalId: r.id,
      reservationId: null,
      kind,
      amountMinor,
      currency: this.deps.config.currency,
      paymentId,
      at: this.nowIso(),
    };
    await tx.charges.insert(charge);
    await this.deps.events?.emit(tx, { type: 'charge', charge });
  }

  async listForUser(userId: string) {
    return this.deps.store.transaction(async (tx) =>
      Promise.all((await tx.rentals.listByUser(userId)).map((r) => rentalView(tx, r))),
    );
  }

  /**
   * A disk came back at `kioskId` (inside the DiskReturned event's transaction): closes its
   * open, overdue or lost rental with the overdue days charged up to now. A disk reported
   * lost and then returned gets the lost-disk charge back on the deposit.
   */
  async returned(tx: Tx, diskId: string, kioskId: string): Promise<RentalRecord | undefined> {
    const r = await tx.rentals.findUnreturnedByDisk(diskId);
    if (!r) return undefined;
    const wasLost = r.state === 'lost';
    if (!wasLost) await this.accrue(tx, r);
    const cur = (await tx.rentals.get(r.id))!;
    if (wasLost) {
      const lost = (await tx.charges.listByRental(r.id))
        .filter((c) => c.kind === 'lost')
        .reduce((n, c) => n + c.amountMinor, 0);
      await this.deps.deposits.credit(tx, r.userId, lost, r.id, 'lost disk returned');
      if (lost > 0) await this.charge(tx, cur, 'lost_reversed', -lost, null);
    }
    const at = this.nowIso();
    await tx.rentals.update(r.id, {
      state: 'returned',
      returnedAt: at,
      returnKioskId: kioskId,
    });
    await audit(tx, { actor: `kiosk:${kioskId}`, kioskId }, at, 'rental.returned', r.id, {
      diskId,
      wasLost,
    });
    return tx.rentals.get(r.id);
  }

  /**
   * Charges overdue days up to now (at most `overdueMaxDays`), taken from the deposit; past
   * that the disk is lost and the lost-disk charge is taken from the deposit.
   */
  async accrue(tx: Tx, r: RentalRecord): Promise<void> {
    const now = this.deps.now().getTime();
    const due = Date.parse(r.dueAt);
    if (now <= due || r.state === 'returned' || r.state === 'lost') return;
    const cfg = this.deps.config;
    const terms = await this.deps.settings.termsOf(tx, r);
    const overdueDays = Math.ceil((now - due) / DAY_MS);
    const chargeable = Math.min(overdueDays, cfg.overdueMaxDays);
    const at = this.nowIso();
    for (let d = r.overdueDaysCharged + 1; d <= chargeable; d++) {
      await this.charge(tx, r, 'overdue', terms.overdueFeePerDayMinor, null);
      await this.deps.deposits.take(
        tx,
        r.userId,
        terms.overdueFeePerDayMinor,
        r.id,
        `overdue day ${d}`,
      );
    }
    const state = overdueDays > cfg.overdueMaxDays ? 'lost' : 'overdue';
    await tx.rentals.update(r.id, {
      overdueDaysCharged: Math.max(r.overdueDaysCharged, chargeable),
      state,
    });
    if (state === 'lost') {
      await this.charge(tx, r, 'lost', terms.lostDiskChargeMinor, null);
      await this.deps.deposits.take(tx, r.userId, terms.lostDiskChargeMinor, r.id, 'lost disk');
      await audit(tx, SYSTEM('overdue'), at, 'rental.lost', r.id, { overdueDays });
    } else if (chargeable > r.overdueDaysCharged) {
      await audit(tx, SYSTEM('overdue'), at, 'rental.overdue_charged', r.id, { days: chargeable });
    }
  }

  /** Accrues every open or overdue rental (reconciliation job). */
  async accrueAll(): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      for (const r of await tx.rentals.listByStates(['open', 'overdue'])) await this.accrue(tx, r);
    });
  }
}
