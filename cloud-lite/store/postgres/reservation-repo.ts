import type { ReservationRecord, ReservationRepo } from '../repos/reservation-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgReservationRepo(sql: Sql): ReservationRepo {
  const reservations = pgTable<ReservationRecord>(sql, {
    name: 'reservations',
    key: 'id',
    json: ['progress', 'fees'],
  });
  return {
    ...reservations.keyed,
    findByIdempotencyKey: (userId, key) =>
      reservations.one(
        'SELECT * FROM reservations WHERE user_id = $1 AND idempotency_key = $2',
        userId,
        key,
      ),
    listByUser: (userId, limit) =>
      reservations.all(
        'SELECT * FROM reservations WHERE user_id = $1 ORDER BY created_at DESC, row_no DESC LIMIT $2',
        userId,
        limit,
      ),
    listByStates: (states, limit) =>
      reservations.all(
        'SELECT * FROM reservations WHERE state = ANY($1::text[]) ORDER BY created_at, row_no LIMIT $2',
        [...states],
        limit,
      ),
    listRecent: (limit) =>
      reservations.all(
        'SELECT * FROM reservations ORDER BY created_at DESC, row_no DESC LIMIT $1',
        limit,
      ),
  };
}
