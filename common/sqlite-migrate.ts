/**
 * The SQLite migration runner of kioskd and cloud-lite: one file per migration, numbered from 1
 * without gaps; `PRAGMA user_version` holds the version applied; every pending migration runs
 * in ONE transaction with the version bump; a database from newer code is refused.
 */
import type Database from 'better-sqlite3';
import { CodedError } from './coded-error.js';

/** One migration: `version` is the `user_version` the database has after it. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * EDBNEWER: the database was written by newer code. EMIGRATION: a migration failed (nothing
 * was changed). EMIGRATIONLIST: the list itself is wrong (versions not 1, 2, 3, ...).
 */
export class MigrationError extends CodedError<'EDBNEWER' | 'EMIGRATION' | 'EMIGRATIONLIST'> {}

export interface MigrateOptions {
  /** The program named in messages (`kioskd`, `cloud-lite`). */
  program: string;
  /** The error for a database newer than `migrations` (default MigrationError EDBNEWER). */
  newer?: (found: number, known: number) => Error;
}

/**
 * Brings the schema to the latest version: every pending migration runs in ONE
 * transaction together with the `user_version` bump, so a failure leaves the database
 * exactly as it was. Refuses a database whose version is newer than this code knows.
 * Returns the versions before and after.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[],
  opts: MigrateOptions,
): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new MigrationError(
        'EMIGRATIONLIST',
        `migration ${m.name} has version ${m.version}, expected ${i + 1}; number migrations from 1 without gaps`,
      );
  });
  const { program } = opts;
  const latest = migrations.length;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    throw (
      opts.newer?.(current, latest) ??
      new MigrationError(
        'EDBNEWER',
        `database ${db.name} has schema version ${current}, newer than this ${program} knows ` +
          `(${latest}); install the newer ${program} again or restore a backup of the data directory`,
      )
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
          { cause: err },
        );
      }
    }
    db.pragma(`user_version = ${latest}`);
  });
  run.immediate();
  return { from: current, to: latest };
}
