import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Registrations waiting for their owner to confirm by the link sent to the e-mail address
 * or phone (the account is created only then, so register never tells whether a login is
 * taken); the throttle table's index for pruning by time.
 */
export const migration004PendingRegistrations: Migration = {
  version: 4,
  name: 'pending-registrations',
  sql: `
CREATE TABLE pending_registrations (
  token_hash BLOB PRIMARY KEY,
  email TEXT,
  phone TEXT,
  name TEXT,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ip TEXT
) STRICT;
CREATE INDEX pending_registrations_expiry ON pending_registrations(expires_at);
CREATE INDEX login_failures_at ON login_failures(at);
`,
};
