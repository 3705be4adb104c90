import type { ChargeRecord, ChargeRepo } from '../repos/charge-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgChargeRepo(sql: Sql): ChargeRepo {
  const charges = pgTable<ChargeRecord>(sql, { name: 'charges', key: 'id' });
  return {
    insert: charges.insert,
    listByRental: (rentalId) =>
      charges.all('SELECT * FROM charges WHERE rental_id = $1 ORDER BY at, row_no', rentalId),
  };
}
