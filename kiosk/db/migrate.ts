import type Database from 'better-sqlite3';
import { migrations as allMigrations, type Migration } from './migrations/index.js';

/** The database was written by a newer kioskd, or a migration failed. */
export class MigrationError extends Error {
  constructor(
    readonly code: 'EDBNEWER' | 'EMIGRATION',
    message: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

/**
 * Brings the schema to the latest version: every pending migration runs in ONE
 * transaction together with the `user_version` bump, so a failure leaves the database
 * exactly as it was. Refuses a database whose version is newer than this code knows.
 * Returns the versions before and after.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[] = allMigrations,
): { from: number; to: number } {
  const latest = migrations.at(-1)?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    throw new MigrationError(
      'EDBNEWER',
      `database ${db.name} has schema version ${current}, newer than this kioskd knows ` +
        `(${latest}); install the newer kioskd again or restore a backup of the data directory`,
    );
  }
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return { from: current, to: current };
  const run = db.transaction(() => {
    for (const m of pending) {
      try {
        db.exec(m.sql);
      } catch (err) {
        throw new MigrationError(
          'EMIGRATION',
          `migration ${m.name} failed on ${db.name}: ${(err as Error).message}; ` +
            `the database was left at version ${current}`,
        );
      }
    }
    db.pragma(`user_version = ${latest}`);
  });
  run.immediate();
  return { from: current, to: latest };
}
