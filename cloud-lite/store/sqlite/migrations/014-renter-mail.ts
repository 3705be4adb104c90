import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Renter e-mail (docs/alerts-and-notifications.md):
 * - `sent_notifications` becomes the renter mail's outbox as well as its dedupe record: the row
 *   is written in the transaction that decided to tell the renter (`payload`: what the mail
 *   says, as JSON), then sent until delivered, with backoff (`attempts`, `next_attempt_at`),
 *   or given up (`failed_at`). Rows from before (no payload) count as sent.
 * - `password_resets`: "forgot password" tokens, kept as SHA-256 hashes, single use, expiring.
 */
export const migration014RenterMail: Migration = {
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
) STRICT;
CREATE INDEX password_resets_user ON password_resets (user_id);
`,
};
