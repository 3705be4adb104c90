import Database from 'better-sqlite3';
import { StoppedError } from '../../errors.js';
import { makeRentalRepos } from '../../rental/store/sqlite/index.js';
import { AsyncMutex } from '../mutex.js';
import type { Repos, Store } from '../types.js';
import { sqliteCommandRepo } from './command-repo.js';
import { sqliteEnrolmentTokenRepo } from './enrolment-token-repo.js';
import { sqliteEventRepo } from './event-repo.js';
import { sqliteKioskRepo } from './kiosk-repo.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';
import { sqliteSlotRepo } from './slot-repo.js';

function makeRepos(db: Database.Database): Repos {
  return {
    kiosks: sqliteKioskRepo(db),
    enrolmentTokens: sqliteEnrolmentTokenRepo(db),
    slots: sqliteSlotRepo(db),
    commands: sqliteCommandRepo(db),
    events: sqliteEventRepo(db),
    rental: makeRentalRepos(db),
  };
}

/**
 * The SQLite store (better-sqlite3, WAL): one connection; transactions are serialized
 * through an async mutex and run as BEGIN IMMEDIATE ... COMMIT / ROLLBACK.
 */
export class SqliteStore implements Store {
  private readonly mutex = new AsyncMutex();
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly repos: Repos,
  ) {}

  /** Opens (creating if needed) and migrates the database. Throws StoreVersionError for a newer one. */
  static open(path: string): SqliteStore {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
      migrate(db, migrations);
      return new SqliteStore(db, makeRepos(db));
    } catch (err) {
      db.close();
      throw err;
    }
  }

  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StoppedError('the store is closed'));
    return this.mutex.run(async () => {
      if (!this.db.open) throw new StoppedError('the store is closed');
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(this.repos);
        this.db.exec('COMMIT');
        return out;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.mutex.idle();
    this.db.close();
  }
}
