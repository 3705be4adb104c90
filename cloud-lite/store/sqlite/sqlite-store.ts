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

interface QueuedTx {
  fn: (tx: Repos) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

/** Most transactions committed together. */
const MAX_GROUP = 256;

/**
 * The SQLite store (better-sqlite3, WAL): one connection; transactions are serialized
 * through an async mutex and run as BEGIN IMMEDIATE ... COMMIT / ROLLBACK.
 *
 * Group commit: transactions queued while one runs are run one after another inside one
 * BEGIN IMMEDIATE ... COMMIT, each in its own SAVEPOINT (a failing one rolls back to its
 * savepoint only). Every caller's promise settles after the shared COMMIT, so "resolved"
 * still means "durable"; if the COMMIT fails, every transaction of the group rejects.
 */
export class SqliteStore implements Store {
  private readonly mutex = new AsyncMutex();
  private readonly queue: QueuedTx[] = [];
  private closed = false;
  /** Transaction control, prepared once (db.exec would parse the SQL on every call). */
  private readonly ctl: Record<
    'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo',
    Database.Statement
  >;

  private constructor(
    private readonly db: Database.Database,
    private readonly repos: Repos,
  ) {
    this.ctl = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT tx'),
      release: db.prepare('RELEASE tx'),
      rollbackTo: db.prepare('ROLLBACK TO tx'),
    };
  }

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
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve, reject } as QueuedTx);
      if (this.queue.length === 1) void this.mutex.run(() => this.runGroup());
    });
  }

  private async runGroup(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP);
    if (group.length === 0) return;
    if (this.queue.length > 0) void this.mutex.run(() => this.runGroup());
    if (!this.db.open) {
      for (const item of group) item.reject(new StoppedError('the store is closed'));
      return;
    }
    const done: Array<[QueuedTx, unknown]> = [];
    const { ctl } = this;
    ctl.begin.run();
    if (group.length === 1) {
      // Alone in its group: no savepoint needed, a failure rolls the whole transaction back.
      const item = group[0]!;
      try {
        done.push([item, await item.fn(this.repos)]);
      } catch (err) {
        if (this.db.inTransaction) ctl.rollback.run();
        item.reject(err);
        return;
      }
    } else {
      for (const item of group) {
        ctl.savepoint.run();
        try {
          const out = await item.fn(this.repos);
          ctl.release.run();
          done.push([item, out]);
        } catch (err) {
          ctl.rollbackTo.run();
          ctl.release.run();
          item.reject(err);
        }
      }
    }
    try {
      ctl.commit.run();
    } catch (err) {
      if (this.db.inTransaction) ctl.rollback.run();
      for (const [item] of done) item.reject(err);
      return;
    }
    for (const [item, out] of done) item.resolve(out);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.mutex.idle();
    this.db.close();
  }
}
