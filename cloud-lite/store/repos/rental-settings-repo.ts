/**
 * The rental terms an operator edits on /ops (docs/money-and-limits.md, "Rental settings"):
 * one row, seeded from the hub config's `rental` section at the first start, then the store's
 * values win over the config file.
 */
export interface RentalSettingsRecord {
  /** The deposit a renter must hold before renting (was `rental.minDepositMinor`). */
  depositMinor: number;
  /** The late fee per started day past due (was `rental.overdueFeePerDayMinor`). */
  overdueFeePerDayMinor: number;
  /** The lost-disk charge, taken from the deposit (was `rental.lostDiskChargeMinor`). */
  lostDiskChargeMinor: number;
  updatedAt: string;
  /** Who set these values: `config` for the seed, else the operator's actor. */
  updatedBy: string;
}

/**
 * The terms a rental was sold with, kept on its order, reservation and rental (null on rows
 * from before migration 015: those use the current settings).
 */
export interface SoldTerms {
  overdueFeePerDayMinor?: number | null;
  lostDiskChargeMinor?: number | null;
}

export interface RentalSettingsRepo {
  /** The stored settings; undefined before the first start seeded them. */
  get(): Promise<RentalSettingsRecord | undefined>;
  /** Writes `r` unless a row exists (the first start's seed; several processes may race). */
  seed(r: RentalSettingsRecord): Promise<void>;
  /** Replaces the stored settings. */
  put(r: RentalSettingsRecord): Promise<void>;
}
