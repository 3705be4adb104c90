import type Database from 'better-sqlite3';
import type { DepositEntryRecord, DepositRepo } from '../repos/deposit-repo.js';
import { table } from './table.js';

export function sqliteDepositRepo(db: Database.Database, onWrite?: () => void): DepositRepo {
  const deposits = table<DepositEntryRecord>(db, { name: 'deposit_entries', key: 'id', onWrite });
  return {
    insert: deposits.insert,
    async balance(userId) {
      return (
        db
          .prepare(
            'SELECT coalesce(sum(amount_minor), 0) AS n FROM deposit_entries WHERE user_id = ?',
          )
          .get(userId) as { n: number }
      ).n;
    },
    async list(userId) {
      return deposits.all(
        'SELECT * FROM deposit_entries WHERE user_id = ? ORDER BY at, rowid',
        userId,
      );
    },
  };
}
