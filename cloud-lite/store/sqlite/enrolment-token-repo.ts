import type Database from 'better-sqlite3';
import type { EnrolmentTokenRecord, EnrolmentTokenRepo } from '../repos/enrolment-token-repo.js';

interface Row {
  token_hash: Buffer;
  kiosk_id: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export function sqliteEnrolmentTokenRepo(db: Database.Database): EnrolmentTokenRepo {
  const s = {
    insert: db.prepare(
      'INSERT INTO enrolment_tokens (token_hash, kiosk_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
    ),
    get: db.prepare('SELECT * FROM enrolment_tokens WHERE token_hash = ?'),
    used: db.prepare(
      'UPDATE enrolment_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL',
    ),
    invalidate: db.prepare(
      'UPDATE enrolment_tokens SET used_at = ? WHERE kiosk_id = ? AND used_at IS NULL',
    ),
  };
  return {
    async insert(t) {
      s.insert.run(t.tokenHash, t.kioskId, t.createdAt, t.expiresAt);
    },
    async get(hash): Promise<EnrolmentTokenRecord | undefined> {
      const r = s.get.get(hash) as Row | undefined;
      return (
        r && {
          tokenHash: r.token_hash,
          kioskId: r.kiosk_id,
          createdAt: r.created_at,
          expiresAt: r.expires_at,
          usedAt: r.used_at,
        }
      );
    },
    async markUsed(hash, at) {
      s.used.run(at, hash);
    },
    async invalidateForKiosk(kioskId, at) {
      s.invalidate.run(at, kioskId);
    },
  };
}
