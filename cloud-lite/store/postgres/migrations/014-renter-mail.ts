import type { PgMigration } from '../migrate.js';

/** SQLite's migration 014 (sqlite/migrations/014-renter-mail.ts): the renter mail outbox, password resets. */
export const pgMigration014RenterMail: PgMigration = {
  version: 14,
  name: 'renter-mail',
  sql: `
ALTER TABLE sent_notifications ADD COLUMN payload TEXT;
ALTER TABLE sent_notifications ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sent_notifications ADD COLUMN next_attempt_at TEXT;
ALTER TABLE sent_notifications ADD COLUMN delivered_at TEXT;
ALTER TABLE sent_notifications ADD COLUMN failed_at TEXT;
ALTER TABLE sent_notifications ADD COLUMN last_error TEXT;
CREATE INDEX sent_notifications_due ON sent_notifications (next_attempt_at)
  WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at IS NOT NULL;

CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX password_resets_user ON password_resets (user_id);
`,
};
