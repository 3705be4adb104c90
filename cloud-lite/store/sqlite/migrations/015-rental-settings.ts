import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Rental settings an operator edits (docs/money-and-limits.md, "Rental settings"):
 * - `rental_settings`: one row (id 1) with the deposit, the late fee per day and the lost-disk
 *   charge, seeded from the config's `rental` section at the first start; every hub process
 *   reads it through the store.
 * - `orders`, `reservations`, `rentals`: the late fee and lost-disk charge the renter was shown
 *   when paying, kept with the sale so a later change applies to new rentals only (null on
 *   rows from before: they follow the current settings).
 * - `pending_registrations.language`: the language chosen at registration (`en`, `zh-CN`),
 *   which the confirmation mail is written in and the account keeps (`users.language`).
 */
export const migration015RentalSettings: Migration = {
  version: 15,
  name: 'rental-settings',
  sql: `
CREATE TABLE rental_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  deposit_minor INTEGER NOT NULL CHECK (deposit_minor >= 1),
  overdue_fee_per_day_minor INTEGER NOT NULL CHECK (overdue_fee_per_day_minor >= 0),
  lost_disk_charge_minor INTEGER NOT NULL CHECK (lost_disk_charge_minor >= 0),
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
) STRICT;
ALTER TABLE orders ADD COLUMN overdue_fee_per_day_minor INTEGER;
ALTER TABLE orders ADD COLUMN lost_disk_charge_minor INTEGER;
ALTER TABLE reservations ADD COLUMN overdue_fee_per_day_minor INTEGER;
ALTER TABLE reservations ADD COLUMN lost_disk_charge_minor INTEGER;
ALTER TABLE rentals ADD COLUMN overdue_fee_per_day_minor INTEGER;
ALTER TABLE rentals ADD COLUMN lost_disk_charge_minor INTEGER;
ALTER TABLE pending_registrations ADD COLUMN language TEXT;
`,
};
