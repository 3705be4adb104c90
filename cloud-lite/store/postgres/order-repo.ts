import type { OrderRecord, OrderRepo } from '../repos/order-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgOrderRepo(sql: Sql): OrderRepo {
  const orders = pgTable<OrderRecord>(sql, { name: 'orders', key: 'id', json: ['steps'] });
  return {
    ...orders.keyed,
    findByIdempotencyKey: (userId, key) =>
      orders.one('SELECT * FROM orders WHERE user_id = $1 AND idempotency_key = $2', userId, key),
    findByCommand: (commandId) =>
      orders.one('SELECT * FROM orders WHERE command_id = $1', commandId),
    listByUser: (userId, limit) =>
      orders.all(
        'SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC, row_no DESC LIMIT $2',
        userId,
        limit,
      ),
    listByStates: (states, limit) =>
      orders.all(
        'SELECT * FROM orders WHERE state = ANY($1::text[]) ORDER BY created_at, row_no LIMIT $2',
        [...states],
        limit,
      ),
    listRecent: (limit, state) =>
      state
        ? orders.all(
            'SELECT * FROM orders WHERE state = $1 ORDER BY created_at DESC, row_no DESC LIMIT $2',
            state,
            limit,
          )
        : orders.all('SELECT * FROM orders ORDER BY created_at DESC, row_no DESC LIMIT $1', limit),
    findLastAtSlot: (kioskId, slot) =>
      orders.one(
        'SELECT * FROM orders WHERE kiosk_id = $1 AND slot = $2 ORDER BY created_at DESC, row_no DESC LIMIT 1',
        kioskId,
        slot,
      ),
  };
}
