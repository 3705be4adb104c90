import type Database from 'better-sqlite3';
import type { ReservationRecord, ReservationRepo } from '../repos/reservation-repo.js';
import { marks, table } from './table.js';

export function sqliteReservationRepo(
  db: Database.Database,
  onWrite?: () => void,
): ReservationRepo {
  const reservations = table<ReservationRecord>(db, {
    name: 'reservations',
    key: 'id',
    json: ['progress', 'fees'],
    bool: ['writeProtect'],
    onWrite,
  });
  return {
    ...reservations.keyed,
    async findByIdempotencyKey(userId, key) {
      return reservations.one(
        'SELECT * FROM reservations WHERE user_id = ? AND idempotency_key = ?',
        userId,
        key,
      );
    },
    async listByUser(userId, limit) {
      return reservations.all(
        'SELECT * FROM reservations WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
        userId,
        limit,
      );
    },
    async listByStates(states, limit) {
      return reservations.all(
        `SELECT * FROM reservations WHERE state IN (${marks(states.length)}) ORDER BY created_at LIMIT ?`,
        ...states,
        limit,
      );
    },
    async listRecent(limit) {
      return reservations.all(
        'SELECT * FROM reservations ORDER BY created_at DESC, rowid DESC LIMIT ?',
        limit,
      );
    },
  };
}
