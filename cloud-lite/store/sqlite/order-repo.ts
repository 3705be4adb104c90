import type Database from 'better-sqlite3';
import type { OrderRecord, OrderRepo } from '../repos/order-repo.js';
import { marks, table } from './table.js';

export function sqliteOrderRepo(db: Database.Database, onWrite?: () => void): OrderRepo {
  const orders = table<OrderRecord>(db, {
    name: 'orders',
    key: 'id',
    json: ['steps'],
    bool: ['writeProtect'],
    onWrite,
  });
  return {
    ...orders.keyed,
    async findByIdempotencyKey(userId, key) {
      return orders.one(
        'SELECT * FROM orders WHERE user_id = ? AND idempotency_key = ?',
        userId,
        key,
      );
    },
    async findByCommand(commandId) {
      return orders.one('SELECT * FROM orders WHERE command_id = ?', commandId);
    },
    async listByUser(userId, limit) {
      return orders.all(
        'SELECT * FROM orders WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
        userId,
        limit,
      );
    },
    async listByStates(states, limit) {
      return orders.all(
        `SELECT * FROM orders WHERE state IN (${marks(states.length)}) ORDER BY created_at LIMIT ?`,
        ...states,
        limit,
      );
    },
    async listRecent(limit, state) {
      return state
        ? orders.all(
            'SELECT * FROM orders WHERE state = ? ORDER BY created_at DESC, rowid DESC LIMIT ?',
            state,
            limit,
          )
        : orders.all('SELECT * FROM orders ORDER BY created_at DESC, rowid DESC LIMIT ?', limit);
    },
    async findLastAtSlot(kioskId, slot) {
      return orders.one(
        'SELECT * FROM orders WHERE kiosk_id = ? AND slot = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
        kioskId,
        slot,
      );
    },
  };
}
