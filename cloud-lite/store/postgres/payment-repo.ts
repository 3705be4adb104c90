import type { PaymentRecord, PaymentRepo } from '../repos/payment-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

export function pgPaymentRepo(sql: Sql): PaymentRepo {
  const payments = pgTable<PaymentRecord>(sql, { name: 'payments', key: 'id' });
  return {
    ...payments.keyed,
    findByProviderRef: (provider, ref) =>
      payments.one(
        'SELECT * FROM payments WHERE provider = $1 AND provider_ref = $2',
        provider,
        ref,
      ),
    listByState: (states, updatedBefore) =>
      payments.all(
        'SELECT * FROM payments WHERE state = ANY($1::text[]) AND updated_at <= $2 ORDER BY created_at, row_no',
        [...states],
        updatedBefore,
      ),
    listByRef: (refId) =>
      payments.all('SELECT * FROM payments WHERE ref_id = $1 ORDER BY created_at, row_no', refId),
    listByUser: (userId) =>
      payments.all('SELECT * FROM payments WHERE user_id = $1 ORDER BY created_at, row_no', userId),
    listLapsingBefore: (before) =>
      payments.all(
        "SELECT * FROM payments WHERE state = 'authorised' AND authorised_until IS NOT NULL AND authorised_until <= $1 ORDER BY authorised_until, row_no",
        before,
      ),
    listChildren: (parentId) =>
      payments.all(
        'SELECT * FROM payments WHERE parent_id = $1 ORDER BY created_at, row_no',
        parentId,
      ),
  };
}
