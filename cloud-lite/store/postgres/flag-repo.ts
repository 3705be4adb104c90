import type { FlagRecord, FlagRepo } from '../repos/flag-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgFlagRepo(sql: Sql): FlagRepo {
  const flags = pgTable<FlagRecord, number>(sql, { name: 'reconciliation_flags', key: 'id' });
  return {
    async raise(kind, subject, message, at) {
      await sql.run(
        `INSERT INTO reconciliation_flags AS f (kind, subject, message, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kind, subject) DO UPDATE SET message = excluded.message,
           created_at = CASE WHEN f.resolved_at IS NULL THEN f.created_at ELSE excluded.created_at END,
           resolved_at = NULL`,
        [kind, subject, message, at],
      );
    },
    async resolve(kind, subject, at) {
      await sql.run(
        'UPDATE reconciliation_flags SET resolved_at = $1 WHERE kind = $2 AND subject = $3 AND resolved_at IS NULL',
        [at, kind, subject],
      );
    },
    listOpen: () =>
      flags.all('SELECT * FROM reconciliation_flags WHERE resolved_at IS NULL ORDER BY id'),
  };
}
