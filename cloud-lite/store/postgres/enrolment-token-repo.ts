import type { EnrolmentTokenRecord, EnrolmentTokenRepo } from '../repos/enrolment-token-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgEnrolmentTokenRepo(sql: Sql): EnrolmentTokenRepo {
  const tokens = pgTable<EnrolmentTokenRecord, Buffer>(sql, {
    name: 'enrolment_tokens',
    key: 'tokenHash',
  });
  return {
    async insert(t) {
      await tokens.insert({ ...t, usedAt: null });
    },
    get: tokens.get,
    async markUsed(hash, at) {
      await sql.run(
        'UPDATE enrolment_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL',
        [at, hash],
      );
    },
    async invalidateForKiosk(kioskId, at) {
      await sql.run(
        'UPDATE enrolment_tokens SET used_at = $1 WHERE kiosk_id = $2 AND used_at IS NULL',
        [at, kioskId],
      );
    },
  };
}
