import type Database from 'better-sqlite3';
import type { FlagRecord, FlagRepo } from '../repos/flag-repo.js';
import { table } from './table.js';

export function sqliteFlagRepo(db: Database.Database): FlagRepo {
  const flags = table<FlagRecord, number>(db, { name: 'reconciliation_flags', key: 'id' });
  return {
    async raise(kind, subject, message, at) {
      db.prepare(
        `INSERT INTO reconciliation_flags (kind, subject, message, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (kind, subject) DO UPDATE SET message = excluded.message,
           created_at = CASE WHEN resolved_at IS NULL THEN created_at ELSE excluded.created_at END,
           resolved_at = NULL`,
      ).run(kind, subject, message, at);
    },
    async resolve(kind, subject, at) {
      db.prepare(
        'UPDATE reconciliation_flags SET resolved_at = ? WHERE kind = ? AND subject = ? AND resolved_at IS NULL',
      ).run(at, kind, subject);
    },
    async listOpen() {
      return flags.all('SELECT * FROM reconciliation_flags WHERE resolved_at IS NULL ORDER BY id');
    },
  };
}
