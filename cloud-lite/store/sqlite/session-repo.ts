import type Database from 'better-sqlite3';
import type { SessionRecord, SessionRepo } from '../repos/session-repo.js';
import { table } from './table.js';

export function sqliteSessionRepo(db: Database.Database): SessionRepo {
  const sessions = table<SessionRecord, Buffer>(db, { name: 'sessions', key: 'tokenHash' });
  return {
    insert: sessions.insert,
    get: sessions.get,
    async revoke(tokenHash, at) {
      db.prepare('UPDATE sessions SET revoked_at = ? WHERE token_hash = ?').run(at, tokenHash);
    },
    async revokeAllOf(userId, at) {
      db.prepare('UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL').run(
        at,
        userId,
      );
    },
  };
}
