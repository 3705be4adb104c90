import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Extensions of a rental, one row per request: the days asked and what they cost, the payment
 * (null when taken from the deposit) and whether they are still being paid (`pending`),
 * applied to the due date, or `failed`. Pending rows count against the disk type's maxDays,
 * so parallel extensions cannot overshoot it; the settle hook applies exactly their days.
 */
export const migration005RentalExtensions: Migration = {
  version: 5,
  name: 'rental-extensions',
  sql: `
CREATE TABLE rental_extensions (
  id TEXT PRIMARY KEY,
  rental_id TEXT NOT NULL REFERENCES rentals(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  idempotency_key TEXT,
  days INTEGER NOT NULL CHECK (days > 0),
  amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
  currency TEXT NOT NULL,
  payment_id TEXT REFERENCES payments(id),
  state TEXT NOT NULL CHECK (state IN ('pending', 'applied', 'failed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX rental_extensions_rental ON rental_extensions(rental_id, state);
CREATE UNIQUE INDEX rental_extensions_payment ON rental_extensions(payment_id) WHERE payment_id IS NOT NULL;
CREATE UNIQUE INDEX rental_extensions_idem ON rental_extensions(user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
`,
};
