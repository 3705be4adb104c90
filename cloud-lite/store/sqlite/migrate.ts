import type Database from 'better-sqlite3';
import { StoreVersionError } from '../../errors.js';
import type { Migration } from './migrations/index.js';

/**
 * Brings the database to the newest schema: every pending migration in ONE transaction
 * (all or nothing), then `PRAGMA user_version`. Refuses a database newer than `migrations`.
 * Returns the versions applied.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[]): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length;
  if (current > latest) throw new StoreVersionError(current, latest);
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return [];
  db.transaction(() => {
    for (const m of pending) db.exec(m.sql);
    db.pragma(`user_version = ${latest}`);
  }).immediate();
  return pending.map((m) => m.version);
}
