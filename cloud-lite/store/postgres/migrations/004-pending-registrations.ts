import type { PgMigration } from '../migrate.js';

/** SQLite's migration 004 (sqlite/migrations/004-pending-registrations.ts). */
export const pgMigration004PendingRegistrations: PgMigration = {
  version: 4,
  name: 'pending-registrations',
  sql: `
CREATE TABLE pending_registrations (
  token_hash BYTEA PRIMARY KEY,
  email TEXT,
  phone TEXT,
  name TEXT,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ip TEXT
);
CREATE INDEX pending_registrations_expiry ON pending_registrations(expires_at);
CREATE INDEX login_failures_at ON login_failures(at);
`,
};
