import type { DepositEntryRecord, DepositRepo } from '../repos/deposit-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgDepositRepo(sql: Sql): DepositRepo {
  const deposits = pgTable<DepositEntryRecord>(sql, { name: 'deposit_entries', key: 'id' });
  return {
    insert: deposits.insert,
    async balance(userId) {
      const r = await sql.one<{ n: number }>(
        'SELECT coalesce(sum(amount_minor), 0)::bigint AS n FROM deposit_entries WHERE user_id = $1',
        [userId],
      );
      return r?.n ?? 0;
    },
    list: (userId) =>
      deposits.all('SELECT * FROM deposit_entries WHERE user_id = $1 ORDER BY at, row_no', userId),
  };
}
