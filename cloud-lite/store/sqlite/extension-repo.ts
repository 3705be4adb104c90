import type Database from 'better-sqlite3';
import type { ExtensionRecord, ExtensionRepo } from '../repos/extension-repo.js';
import { table } from './table.js';

export function sqliteExtensionRepo(db: Database.Database, onWrite?: () => void): ExtensionRepo {
  const extensions = table<ExtensionRecord>(db, {
    name: 'rental_extensions',
    key: 'id',
    onWrite,
  });
  return {
    ...extensions.keyed,
    async findByPayment(paymentId) {
      return extensions.one('SELECT * FROM rental_extensions WHERE payment_id = ?', paymentId);
    },
    async findByIdempotencyKey(userId, key) {
      return extensions.one(
        'SELECT * FROM rental_extensions WHERE user_id = ? AND idempotency_key = ?',
        userId,
        key,
      );
    },
    async listByRental(rentalId) {
      return extensions.all(
        'SELECT * FROM rental_extensions WHERE rental_id = ? ORDER BY created_at, rowid',
        rentalId,
      );
    },
  };
}
