import type Database from 'better-sqlite3';
import type { RentalRecord, RentalRepo } from '../repos/rental-repo.js';
import { marks, table } from './table.js';

export function sqliteRentalRepo(db: Database.Database, onWrite?: () => void): RentalRepo {
  const rentals = table<RentalRecord>(db, { name: 'rentals', key: 'id', onWrite });
  return {
    ...rentals.keyed,
    async findByOrder(orderId) {
      return rentals.one('SELECT * FROM rentals WHERE order_id = ?', orderId);
    },
    async findUnreturnedByDisk(diskId) {
      return rentals.one(
        "SELECT * FROM rentals WHERE disk_id = ? AND state IN ('open', 'overdue', 'lost') ORDER BY started_at DESC LIMIT 1",
        diskId,
      );
    },
    async listByUser(userId) {
      return rentals.all(
        'SELECT * FROM rentals WHERE user_id = ? ORDER BY started_at DESC',
        userId,
      );
    },
    async listByStates(states) {
      return rentals.all(
        `SELECT * FROM rentals WHERE state IN (${marks(states.length)}) ORDER BY due_at`,
        ...states,
      );
    },
  };
}
