import type Database from 'better-sqlite3';
import type {
  PendingRegistrationRecord,
  PendingRegistrationRepo,
} from '../repos/pending-registration-repo.js';
import { table } from './table.js';

export function sqlitePendingRegistrationRepo(db: Database.Database): PendingRegistrationRepo {
  const pending = table<PendingRegistrationRecord, Buffer>(db, {
    name: 'pending_registrations',
    key: 'tokenHash',
  });
  return {
    insert: pending.insert,
    get: pending.get,
    async remove(tokenHash) {
      db.prepare('DELETE FROM pending_registrations WHERE token_hash = ?').run(tokenHash);
    },
    async removeExpired(at) {
      db.prepare('DELETE FROM pending_registrations WHERE expires_at < ?').run(at);
    },
  };
}
