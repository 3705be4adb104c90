import type Database from 'better-sqlite3';
import type { RentalSettingsRecord, RentalSettingsRepo } from '../repos/rental-settings-repo.js';

const COLS =
  'deposit_minor AS depositMinor, overdue_fee_per_day_minor AS overdueFeePerDayMinor, lost_disk_charge_minor AS lostDiskChargeMinor, updated_at AS updatedAt, updated_by AS updatedBy';
const VALUES =
  '(1, @depositMinor, @overdueFeePerDayMinor, @lostDiskChargeMinor, @updatedAt, @updatedBy)';
const INSERT = `INSERT INTO rental_settings (id, deposit_minor, overdue_fee_per_day_minor, lost_disk_charge_minor, updated_at, updated_by) VALUES ${VALUES}`;

export function sqliteRentalSettingsRepo(
  db: Database.Database,
  onWrite?: () => void,
): RentalSettingsRepo {
  const get = db.prepare(`SELECT ${COLS} FROM rental_settings WHERE id = 1`);
  const seed = db.prepare(`${INSERT} ON CONFLICT (id) DO NOTHING`);
  const put = db.prepare(
    `${INSERT} ON CONFLICT (id) DO UPDATE SET deposit_minor = excluded.deposit_minor,
       overdue_fee_per_day_minor = excluded.overdue_fee_per_day_minor,
       lost_disk_charge_minor = excluded.lost_disk_charge_minor,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  );
  return {
    async get() {
      return get.get() as RentalSettingsRecord | undefined;
    },
    async seed(r) {
      onWrite?.();
      seed.run(r);
    },
    async put(r) {
      onWrite?.();
      put.run(r);
    },
  };
}
