import type {
  PendingRegistrationRecord,
  PendingRegistrationRepo,
} from '../repos/pending-registration-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgPendingRegistrationRepo(sql: Sql): PendingRegistrationRepo {
  const pending = pgTable<PendingRegistrationRecord, Buffer>(sql, {
    name: 'pending_registrations',
    key: 'tokenHash',
  });
  return {
    insert: pending.insert,
    get: pending.get,
    async remove(tokenHash) {
      await sql.run('DELETE FROM pending_registrations WHERE token_hash = $1', [tokenHash]);
    },
    async removeExpired(at) {
      await sql.run('DELETE FROM pending_registrations WHERE expires_at < $1', [at]);
    },
  };
}
