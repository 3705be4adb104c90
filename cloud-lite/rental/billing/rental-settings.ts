import { type Actor, audit } from '../../audit.js';
import type { RentalSettingsRecord, SoldTerms, Store, Tx } from '../../store/types.js';
import type { RentalConfig } from '../config.js';

/** The amounts an operator edits: the deposit, the late fee per day, the lost-disk charge. */
export type RentalAmounts = Pick<
  RentalSettingsRecord,
  'depositMinor' | 'overdueFeePerDayMinor' | 'lostDiskChargeMinor'
>;

/** The late fee and lost-disk charge a sale keeps. */
export interface Terms {
  overdueFeePerDayMinor: number;
  lostDiskChargeMinor: number;
}

export interface RentalSettingsDeps {
  store: Store;
  config: RentalConfig;
  now: () => Date;
}

/** The config file's values, as the settings they seed. */
function fromConfig(c: RentalConfig, at: string): RentalSettingsRecord {
  return {
    depositMinor: c.minDepositMinor,
    overdueFeePerDayMinor: c.overdueFeePerDayMinor,
    lostDiskChargeMinor: c.lostDiskChargeMinor,
    updatedAt: at,
    updatedBy: 'config',
  };
}

/**
 * The rental settings (docs/money-and-limits.md, "Rental settings"): stored in the hub's
 * store, seeded from the config file's `rental.minDepositMinor`, `overdueFeePerDayMinor` and
 * `lostDiskChargeMinor` at the first start (`seed()`), edited by operators (`put()`), and read
 * inside each transaction that decides with them, so a change made through any hub process
 * applies on every process at once (no per-process copy, no cache).
 */
export class RentalSettings {
  constructor(private readonly deps: RentalSettingsDeps) {}

  /** Stores the config's values unless the store already has settings (the first start). */
  async seed(): Promise<void> {
    const at = this.deps.now().toISOString();
    await this.deps.store.transaction((tx) =>
      tx.rentalSettings.seed(fromConfig(this.deps.config, at)),
    );
  }

  /** The current settings, read in `tx` (the config's values before the first seed). */
  async get(tx: Pick<Tx, 'rentalSettings'>): Promise<RentalSettingsRecord> {
    return (
      (await tx.rentalSettings.get()) ?? fromConfig(this.deps.config, new Date(0).toISOString())
    );
  }

  /** The current settings, read on their own (pages and the operator API). */
  current(): Promise<RentalSettingsRecord> {
    return this.deps.store.read((repos) => this.get(repos));
  }

  /** The terms a new sale keeps (orders, reservations; the rental copies its order's). */
  async soldTerms(tx: Tx): Promise<Terms> {
    const s = await this.get(tx);
    return {
      overdueFeePerDayMinor: s.overdueFeePerDayMinor,
      lostDiskChargeMinor: s.lostDiskChargeMinor,
    };
  }

  /**
   * The late fee and lost-disk charge of a rental (or order): those it was sold with, else
   * (rows from before migration 015) the current settings.
   */
  async termsOf(tx: Tx, sold: SoldTerms): Promise<Terms> {
    if (sold.overdueFeePerDayMinor != null && sold.lostDiskChargeMinor != null)
      return {
        overdueFeePerDayMinor: sold.overdueFeePerDayMinor,
        lostDiskChargeMinor: sold.lostDiskChargeMinor,
      };
    const now = await this.soldTerms(tx);
    return {
      overdueFeePerDayMinor: sold.overdueFeePerDayMinor ?? now.overdueFeePerDayMinor,
      lostDiskChargeMinor: sold.lostDiskChargeMinor ?? now.lostDiskChargeMinor,
    };
  }

  /**
   * An operator changes the amounts (validated by the route's schema): stored and audited
   * (`rental_settings.saved`, with the values before and after) in one transaction. Applies to
   * sales from now on; rentals, orders and reservations already paid keep their terms.
   */
  async put(amounts: RentalAmounts, who: Actor): Promise<RentalSettingsRecord> {
    const at = this.deps.now().toISOString();
    return this.deps.store.transaction(async (tx) => {
      const before = await this.get(tx);
      const next: RentalSettingsRecord = {
        depositMinor: amounts.depositMinor,
        overdueFeePerDayMinor: amounts.overdueFeePerDayMinor,
        lostDiskChargeMinor: amounts.lostDiskChargeMinor,
        updatedAt: at,
        updatedBy: who.actor,
      };
      await tx.rentalSettings.put(next);
      await audit(tx, who, at, 'rental_settings.saved', null, {
        before: {
          depositMinor: before.depositMinor,
          overdueFeePerDayMinor: before.overdueFeePerDayMinor,
          lostDiskChargeMinor: before.lostDiskChargeMinor,
        },
        after: amounts,
      });
      return next;
    });
  }
}
