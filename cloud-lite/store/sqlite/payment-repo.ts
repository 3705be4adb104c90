import type Database from 'better-sqlite3';
import type { PaymentRecord, PaymentRepo } from '../repos/payment-repo.js';
import { marks, table } from './table.js';

export function sqlitePaymentRepo(db: Database.Database, onWrite?: () => void): PaymentRepo {
  const payments = table<PaymentRecord>(db, {
    name: 'payments',
    key: 'id',
    bool: ['captureAfterAuth'],
    onWrite,
  });
  return {
    ...payments.keyed,
    async findByProviderRef(provider, ref) {
      return payments.one(
        'SELECT * FROM payments WHERE provider = ? AND provider_ref = ?',
        provider,
        ref,
      );
    },
    async listByState(states, updatedBefore) {
      return payments.all(
        `SELECT * FROM payments WHERE state IN (${marks(states.length)}) AND updated_at <= ? ORDER BY created_at`,
        ...states,
        updatedBefore,
      );
    },
    async listByRef(refId) {
      return payments.all(
        'SELECT * FROM payments WHERE ref_id = ? ORDER BY created_at, rowid',
        refId,
      );
    },
    async listByUser(userId) {
      return payments.all(
        'SELECT * FROM payments WHERE user_id = ? ORDER BY created_at, rowid',
        userId,
      );
    },
    async listLapsingBefore(before) {
      return payments.all(
        "SELECT * FROM payments WHERE state = 'authorised' AND authorised_until IS NOT NULL AND authorised_until <= ? ORDER BY authorised_until, rowid",
        before,
      );
    },
    async listChildren(parentId) {
      return payments.all(
        'SELECT * FROM payments WHERE parent_id = ? ORDER BY created_at, rowid',
        parentId,
      );
    },
  };
}
