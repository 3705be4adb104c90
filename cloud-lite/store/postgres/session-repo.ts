import type { SessionRecord, SessionRepo } from '../repos/session-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgSessionRepo(sql: Sql): SessionRepo {
  const sessions = pgTable<SessionRecord, Buffer>(sql, { name: 'sessions', key: 'tokenHash' });
  return {
    insert: sessions.insert,
    get: sessions.get,
    async revoke(tokenHash, at) {
      await sql.run('UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2', [at, tokenHash]);
    },
    async revokeAllOf(userId, at) {
      await sql.run(
        'UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL',
        [at, userId],
      );
    },
  };
}
