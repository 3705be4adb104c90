import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CodedError } from '../../common/coded-error.js';
import { type Migration, migrate } from '../../common/sqlite-migrate.js';
import { migrations } from './migrations/index.js';

export type KioskDb = Database.Database;

export interface OpenDbOptions {
  /** Database file; parent directories are created. `:memory:` for throwaway tests. */
  file: string;
  /** How long a statement waits on a lock held by another connection (ms); default 5000. */
  busyTimeoutMs?: number;
  /** Override the migration list (tests). */
  migrations?: readonly Migration[];
}

/**
 * Opens the kiosk database: WAL, synchronous=FULL (dispenses and money depend on a
 * commit surviving power loss), foreign keys on, busy timeout; then migrates to the
 * latest schema (throws MigrationError if the file is from a newer kioskd).
 * The caller owns the handle and closes it on stop.
 */
export function openDb(opts: OpenDbOptions): KioskDb {
  if (opts.file !== ':memory:') mkdirSync(path.dirname(opts.file), { recursive: true });
  const db = new Database(opts.file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
    migrate(db, opts.migrations ?? migrations, { program: 'kioskd' });
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** The kiosk id stored in this database does not match the configuration. */
export class IdentityMismatchError extends CodedError<'EIDENTITY'> {
  constructor(message: string) {
    super('EIDENTITY', message);
  }
}

/**
 * Records the kiosk id on first start; afterwards refuses a database belonging to a
 * different kiosk (a data directory copied between kiosks would replay its events).
 * Returns the database's own random id (made once; Boot's `databaseId`).
 */
export function ensureIdentity(db: KioskDb, kioskId: string): string {
  const row = db.prepare('SELECT kiosk_id, database_id FROM identity WHERE id = 1').get() as
    | { kiosk_id: string; database_id: string | null }
    | undefined;
  if (!row) {
    const id = randomUUID();
    db.prepare('INSERT INTO identity (id, kiosk_id, database_id) VALUES (1, ?, ?)').run(
      kioskId,
      id,
    );
    return id;
  }
  if (row.kiosk_id !== kioskId) {
    throw new IdentityMismatchError(
      `database ${db.name} belongs to kiosk ${row.kiosk_id}, not ${kioskId}; ` +
        "point dataDir at this kiosk's own directory",
    );
  }
  if (row.database_id) return row.database_id;
  const id = randomUUID(); // a database made before 007
  db.prepare('UPDATE identity SET database_id = ? WHERE id = 1').run(id);
  return id;
}
