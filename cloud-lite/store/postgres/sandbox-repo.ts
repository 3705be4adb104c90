import type {
  SandboxLedgerEntry,
  SandboxPaymentRecord,
  SandboxRepo,
} from '../repos/sandbox-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

/** The sandbox provider's books. */
export function pgSandboxRepo(sql: Sql): SandboxRepo {
  const payments = pgTable<SandboxPaymentRecord>(sql, { name: 'sandbox_payments', key: 'id' });
  const ledger = pgTable<SandboxLedgerEntry, number>(sql, { name: 'sandbox_ledger', key: 'id' });
  return {
    insertPayment: payments.insert,
    getPayment: payments.get,
    findByReference: (reference) =>
      payments.one(
        'SELECT * FROM sandbox_payments WHERE reference = $1 ORDER BY created_at DESC LIMIT 1',
        reference,
      ),
    updatePayment: payments.keyed.update,
    listPayments: () => payments.all('SELECT * FROM sandbox_payments ORDER BY created_at, row_no'),
    async addLedger(e) {
      await ledger.insert(e as SandboxLedgerEntry);
    },
    ledger: () => ledger.all('SELECT * FROM sandbox_ledger ORDER BY id'),
    async insertCard(token, number, last4) {
      await sql.run('INSERT INTO sandbox_cards (token, number, last4) VALUES ($1, $2, $3)', [
        token,
        number,
        last4,
      ]);
    },
    getCard: (token) =>
      sql.one<{ token: string; number: string; last4: string }>(
        'SELECT token, number, last4 FROM sandbox_cards WHERE token = $1',
        [token],
      ),
    getIdempotent: (key) =>
      sql.one<{ operation: string; result: unknown }>(
        'SELECT operation, result FROM sandbox_idempotency WHERE key = $1',
        [key],
      ),
    async putIdempotent(key, operation, result) {
      await sql.run(
        'INSERT INTO sandbox_idempotency (key, operation, result) VALUES ($1, $2, $3)',
        [key, operation, JSON.stringify(result)],
      );
    },
  };
}
