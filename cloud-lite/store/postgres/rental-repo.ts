import type { RentalRecord, RentalRepo } from '../repos/rental-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgRentalRepo(sql: Sql): RentalRepo {
  const rentals = pgTable<RentalRecord>(sql, { name: 'rentals', key: 'id' });
  return {
    ...rentals.keyed,
    findByOrder: (orderId) => rentals.one('SELECT * FROM rentals WHERE order_id = $1', orderId),
    findUnreturnedByDisk: (diskId) =>
      rentals.one(
        "SELECT * FROM rentals WHERE disk_id = $1 AND state IN ('open', 'overdue', 'lost') ORDER BY started_at DESC LIMIT 1",
        diskId,
      ),
    listByUser: (userId) =>
      rentals.all('SELECT * FROM rentals WHERE user_id = $1 ORDER BY started_at DESC', userId),
    listByStates: (states) =>
      rentals.all('SELECT * FROM rentals WHERE state = ANY($1::text[]) ORDER BY due_at', [
        ...states,
      ]),
  };
}
