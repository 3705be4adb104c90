import type { PgMigration } from '../migrate.js';

/** SQLite's migration 013 (sqlite/migrations/013-remote-config.ts): remote configuration. */
export const pgMigration013RemoteConfig: PgMigration = {
  version: 13,
  name: 'remote-config',
  sql: `
CREATE TABLE remote_config (
  scope TEXT PRIMARY KEY,
  settings JSONB NOT NULL,
  version BIGINT NOT NULL UNIQUE CHECK (version >= 1),
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE kiosk_reported_state (
  kiosk_id TEXT PRIMARY KEY REFERENCES kiosks(id),
  applied_version BIGINT NOT NULL DEFAULT 0,
  restart_pending BOOLEAN NOT NULL DEFAULT FALSE,
  rejected_version BIGINT,
  rejected_code TEXT,
  rejected_reason TEXT,
  rejected_errors JSONB,
  cache_used_bytes BIGINT,
  cache_max_bytes BIGINT,
  reported_at TEXT NOT NULL
);
`,
};
