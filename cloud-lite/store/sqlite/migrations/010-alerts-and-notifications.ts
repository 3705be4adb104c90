import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Alerts for operators and e-mail notifications for renters (docs/alerts-and-notifications.md):
 * - `alerts`: one row per cause (`dedupe_key`) while it is live (open or acknowledged); a
 *   cause that comes back after it was resolved opens a new row. Who acknowledged and who
 *   resolved (`system:alerts` when the fact cleared).
 * - `alert_deliveries`: the signed webhook's outbox (sent until delivered, with backoff).
 * - `sent_notifications`: a renter notification is sent once per kind and subject.
 * - `notification_opt_outs`: the kinds a renter unsubscribed from.
 * - `users.language`: the language of a renter's e-mails (`en`, `zh-CN`); null: English.
 */
export const migration010AlertsAndNotifications: Migration = {
  version: 10,
  name: 'alerts-and-notifications',
  sql: `
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  kiosk_id TEXT,
  severity TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
  message TEXT NOT NULL,
  details TEXT,
  state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
  opened_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  acknowledged_at TEXT,
  acknowledged_by TEXT,
  resolved_at TEXT,
  resolved_by TEXT,
  notified_at TEXT,
  notify_count INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX alerts_live_key ON alerts (dedupe_key) WHERE state <> 'resolved';
CREATE INDEX alerts_state ON alerts (state, id);

CREATE TABLE alert_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL REFERENCES alerts(id),
  event TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  delivered_at TEXT,
  failed_at TEXT,
  last_error TEXT
) STRICT;
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at)
  WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TABLE sent_notifications (
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id),
  sent_at TEXT NOT NULL,
  PRIMARY KEY (kind, subject)
) STRICT;

CREATE TABLE notification_opt_outs (
  user_id TEXT NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (user_id, kind)
) STRICT;

ALTER TABLE users ADD COLUMN language TEXT;
`,
};
