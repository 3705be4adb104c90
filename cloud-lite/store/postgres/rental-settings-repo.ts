import type { RentalSettingsRecord, RentalSettingsRepo } from '../repos/rental-settings-repo.js';
import type { Sql } from './sql.js';

const COLS =
  'deposit_minor AS "depositMinor", overdue_fee_per_day_minor AS "overdueFeePerDayMinor", lost_disk_charge_minor AS "lostDiskChargeMinor", updated_at AS "updatedAt", updated_by AS "updatedBy"';
const INSERT =
  'INSERT INTO rental_settings (id, deposit_minor, overdue_fee_per_day_minor, lost_disk_charge_minor, updated_at, updated_by) VALUES (1, $1, $2, $3, $4, $5)';
const args = (r: RentalSettingsRecord) => [
  r.depositMinor,
  r.overdueFeePerDayMinor,
  r.lostDiskChargeMinor,
  r.updatedAt,
  r.updatedBy,
];

export function pgRentalSettingsRepo(sql: Sql): RentalSettingsRepo {
  return {
    async get() {
      return (await sql.one(`SELECT ${COLS} FROM rental_settings WHERE id = 1`, [])) as
        | RentalSettingsRecord
        | undefined;
    },
    async seed(r) {
      await sql.run(`${INSERT} ON CONFLICT (id) DO NOTHING`, args(r));
    },
    async put(r) {
      await sql.run(
        `${INSERT} ON CONFLICT (id) DO UPDATE SET deposit_minor = excluded.deposit_minor,
           overdue_fee_per_day_minor = excluded.overdue_fee_per_day_minor,
           lost_disk_charge_minor = excluded.lost_disk_charge_minor,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        args(r),
      );
    },
  };
}
