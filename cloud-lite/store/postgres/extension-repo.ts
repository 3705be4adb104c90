import type { ExtensionRecord, ExtensionRepo } from '../repos/extension-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgExtensionRepo(sql: Sql): ExtensionRepo {
  const extensions = pgTable<ExtensionRecord>(sql, { name: 'rental_extensions', key: 'id' });
  return {
    ...extensions.keyed,
    findByPayment: (paymentId) =>
      extensions.one('SELECT * FROM rental_extensions WHERE payment_id = $1', paymentId),
    findByIdempotencyKey: (userId, key) =>
      extensions.one(
        'SELECT * FROM rental_extensions WHERE user_id = $1 AND idempotency_key = $2',
        userId,
        key,
      ),
    listByRental: (rentalId) =>
      extensions.all(
        'SELECT * FROM rental_extensions WHERE rental_id = $1 ORDER BY created_at, row_no',
        rentalId,
      ),
  };
}
