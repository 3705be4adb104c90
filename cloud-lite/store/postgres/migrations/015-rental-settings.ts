import type { PgMigration } from '../migrate.js';

/** SQLite's migration 015 (sqlite/migrations/015-rental-settings.ts): stored rental settings, the terms kept with each sale, the registration's language. */
export const pgMigration015RentalSettings: PgMigration = {
  version: 15,
  name: 'rental-settings',
  sql: `
CREATE TABLE rental_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  deposit_minor BIGINT NOT NULL CHECK (deposit_minor >= 1),
  overdue_fee_per_day_minor BIGINT NOT NULL CHECK (overdue_fee_per_day_minor >= 0),
  lost_disk_charge_minor BIGINT NOT NULL CHECK (lost_disk_charge_minor >= 0),
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL
);
ALTER TABLE orders ADD COLUMN overdue_fee_per_day_minor BIGINT;
ALTER TABLE orders ADD COLUMN lost_disk_charge_minor BIGINT;
ALTER TABLE reservations ADD COLUMN overdue_fee_per_day_minor BIGINT;
ALTER TABLE reservations ADD COLUMN lost_disk_charge_minor BIGINT;
ALTER TABLE rentals ADD COLUMN overdue_fee_per_day_minor BIGINT;
ALTER TABLE rentals ADD COLUMN lost_disk_charge_minor BIGINT;
ALTER TABLE pending_registrations ADD COLUMN language TEXT;
`,
};
