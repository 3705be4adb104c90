import type Database from 'better-sqlite3';
import type { LoginFailureRepo } from '../repos/login-failure-repo.js';

export function sqliteLoginFailureRepo(db: Database.Database): LoginFailureRepo {
  return {
    async add(key, at) {
      db.prepare('INSERT INTO login_failures (key, at) VALUES (?, ?)').run(key, at);
    },
    async since(key, since) {
      return (
        db
          .prepare('SELECT at FROM login_failures WHERE key = ? AND at >= ? ORDER BY at')
          .all(key, since) as { at: string }[]
      ).map((r) => r.at);
    },
    async clear(key) {
      db.prepare('DELETE FROM login_failures WHERE key = ?').run(key);
    },
    async removeOne(key, at) {
      db.prepare(
        'DELETE FROM login_failures WHERE rowid = (SELECT rowid FROM login_failures WHERE key = ? AND at = ? LIMIT 1)',
      ).run(key, at);
    },
    async prune(before, key) {
      if (key === undefined) db.prepare('DELETE FROM login_failures WHERE at < ?').run(before);
      else db.prepare('DELETE FROM login_failures WHERE key = ? AND at < ?').run(key, before);
    },
  };
}
