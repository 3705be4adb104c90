import type { PgMigration } from '../migrate.js';

/** SQLite's migration 005 (sqlite/migrations/005-rental-extensions.ts): a rental's extensions. */
export const pgMigration005RentalExtensions: PgMigration = {
  version: 5,
  name: 'rental-extensions',
  sql: `
CREATE TABLE rental_extensions (
  id TEXT PRIMARY KEY,
  rental_id TEXT NOT NULL REFERENCES rentals(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  idempotency_key TEXT,
  days BIGINT NOT NULL CHECK (days > 0),
  amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
  currency TEXT NOT NULL,
  payment_id TEXT REFERENCES payments(id),
  state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'failed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX rental_extensions_rental ON rental_extensions(rental_id, state);
CREATE UNIQUE INDEX rental_extensions_payment ON rental_extensions(payment_id) WHERE payment_id IS NOT NULL;
CREATE UNIQUE INDEX rental_extensions_idem ON rental_extensions(user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
`,
};
