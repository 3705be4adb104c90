import type Database from 'better-sqlite3';
import type { ChargeRecord, ChargeRepo } from '../repos/charge-repo.js';
import { table } from './table.js';

export function sqliteChargeRepo(db: Database.Database, onWrite?: () => void): ChargeRepo {
  const charges = table<ChargeRecord>(db, { name: 'charges', key: 'id', onWrite });
  return {
    insert: charges.insert,
    async listByRental(rentalId) {
      return charges.all('SELECT * FROM charges WHERE rental_id = ? ORDER BY at, rowid', rentalId);
    },
  };
}
