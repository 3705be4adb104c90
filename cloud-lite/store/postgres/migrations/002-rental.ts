import type { PgMigration } from '../migrate.js';

/**
 * Rental domain: SQLite's migration 002 (sqlite/migrations/002-rental.ts) in PostgreSQL's
 * types (booleans are BOOLEAN, AUTOINCREMENT ids identity columns).
 */
export const pgMigration002Rental: PgMigration = {
  version: 2,
  name: 'rental',
  sql: `
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT UNIQUE,
  phone TEXT UNIQUE,
  name TEXT,
  role TEXT NOT NULL CHECK (role IN ('renter', 'technician', 'operator', 'admin')),
  password_hash TEXT NOT NULL,
  card_token TEXT,
  card_last4 TEXT,
  created_at TEXT NOT NULL,
  CHECK (email IS NOT NULL OR phone IS NOT NULL)
);

CREATE TABLE sessions (
  token_hash BYTEA PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ip TEXT,
  revoked_at TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_failures (
  key TEXT NOT NULL,
  at TEXT NOT NULL,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY
);
CREATE INDEX login_failures_key_at ON login_failures(key, at);

CREATE TABLE deposit_entries (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL CHECK (kind IN ('topup', 'refund', 'charge', 'credit')),
  amount_minor BIGINT NOT NULL,
  currency TEXT NOT NULL,
  payment_id TEXT,
  rental_id TEXT,
  at TEXT NOT NULL,
  note TEXT,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX deposit_entries_user ON deposit_entries(user_id);

CREATE TABLE payments (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  provider TEXT NOT NULL,
  provider_ref TEXT,
  kind TEXT NOT NULL CHECK (kind IN ('auth', 'refund')),
  parent_id TEXT REFERENCES payments(id),
  purpose TEXT NOT NULL,
  ref_id TEXT,
  amount_minor BIGINT NOT NULL,
  captured_minor BIGINT NOT NULL DEFAULT 0,
  capture_minor BIGINT,
  currency TEXT NOT NULL,
  state TEXT NOT NULL,
  capture_after_auth BOOLEAN NOT NULL DEFAULT false,
  failure_code TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX payments_state ON payments(state, updated_at);
CREATE INDEX payments_ref ON payments(ref_id);
CREATE UNIQUE INDEX payments_provider_ref ON payments(provider, provider_ref) WHERE provider_ref IS NOT NULL;

CREATE TABLE webhook_events (
  provider TEXT NOT NULL,
  event_id TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (provider, event_id)
);

CREATE TABLE content_packages (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  version TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE disk_types (
  id TEXT PRIMARY KEY,
  capacity_bytes BIGINT NOT NULL,
  content_id TEXT NOT NULL REFERENCES content_packages(id),
  write_protect TEXT NOT NULL CHECK (write_protect IN ('allowed', 'forced', 'off')),
  price_per_day_minor BIGINT NOT NULL,
  currency TEXT NOT NULL,
  default_days BIGINT NOT NULL,
  max_days BIGINT NOT NULL,
  kiosk_ids JSONB
);

CREATE TABLE kiosk_sites (
  kiosk_id TEXT PRIMARY KEY REFERENCES kiosks(id),
  name TEXT NOT NULL,
  address TEXT NOT NULL,
  lat DOUBLE PRECISION NOT NULL,
  lng DOUBLE PRECISION NOT NULL
);

CREATE TABLE orders (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  idempotency_key TEXT,
  request_hash TEXT,
  kiosk_id TEXT NOT NULL,
  disk_type_id TEXT NOT NULL,
  days BIGINT NOT NULL,
  write_protect BOOLEAN NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency TEXT NOT NULL,
  state TEXT NOT NULL,
  slot BIGINT,
  disk_id TEXT,
  failure_reason TEXT,
  payment_id TEXT,
  command_id TEXT,
  reservation_id TEXT,
  rental_id TEXT,
  steps JSONB NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE UNIQUE INDEX orders_idem ON orders(user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX orders_user ON orders(user_id, created_at);
CREATE INDEX orders_state ON orders(state);
CREATE INDEX orders_command ON orders(command_id);

CREATE TABLE reservations (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  idempotency_key TEXT,
  request_hash TEXT,
  kiosk_id TEXT NOT NULL,
  disk_type_id TEXT NOT NULL,
  days BIGINT NOT NULL,
  write_protect BOOLEAN NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency TEXT NOT NULL,
  state TEXT NOT NULL,
  progress JSONB,
  slot BIGINT,
  disk_id TEXT,
  hold_until TEXT NOT NULL,
  prepare_deadline TEXT NOT NULL,
  failure_reason TEXT,
  fees JSONB NOT NULL,
  payment_id TEXT,
  command_id TEXT,
  order_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE UNIQUE INDEX reservations_idem ON reservations(user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX reservations_user ON reservations(user_id, created_at);
CREATE INDEX reservations_state ON reservations(state);

CREATE TABLE rentals (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  order_id TEXT NOT NULL UNIQUE,
  disk_id TEXT NOT NULL,
  disk_type_id TEXT NOT NULL,
  kiosk_id TEXT NOT NULL,
  started_at TEXT NOT NULL,
  due_at TEXT NOT NULL,
  returned_at TEXT,
  return_kiosk_id TEXT,
  state TEXT NOT NULL CHECK (state IN ('open', 'returned', 'overdue', 'lost')),
  overdue_days_charged BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX rentals_user ON rentals(user_id, started_at);
CREATE INDEX rentals_disk ON rentals(disk_id, state);
CREATE INDEX rentals_state ON rentals(state, due_at);

CREATE TABLE charges (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  rental_id TEXT,
  reservation_id TEXT,
  kind TEXT NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency TEXT NOT NULL,
  payment_id TEXT,
  at TEXT NOT NULL,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX charges_rental ON charges(rental_id);

CREATE TABLE audit_log (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT,
  kiosk_id TEXT,
  ip TEXT,
  details JSONB
);

CREATE TABLE reconciliation_flags (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at TEXT NOT NULL,
  resolved_at TEXT,
  UNIQUE (kind, subject)
);

CREATE TABLE sandbox_payments (
  id TEXT PRIMARY KEY,
  reference TEXT NOT NULL,
  card_token TEXT NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency TEXT NOT NULL,
  state TEXT NOT NULL,
  captured_minor BIGINT NOT NULL DEFAULT 0,
  refunded_minor BIGINT NOT NULL DEFAULT 0,
  captures BIGINT NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX sandbox_payments_reference ON sandbox_payments(reference);

CREATE TABLE sandbox_cards (
  token TEXT PRIMARY KEY,
  number TEXT NOT NULL,
  last4 TEXT NOT NULL
);

CREATE TABLE sandbox_idempotency (
  key TEXT PRIMARY KEY,
  operation TEXT NOT NULL,
  result JSONB NOT NULL
);

CREATE TABLE sandbox_ledger (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  payment_id TEXT NOT NULL,
  op TEXT NOT NULL,
  amount_minor BIGINT NOT NULL,
  at TEXT NOT NULL
);
`,
};
