import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Remote configuration (docs/remote-operations.md): the operators' settings per scope (`*` for
 * the fleet default, else a kiosk id), versioned from one sequence, and what each kiosk last
 * reported about itself (the version it runs or refused, its content cache use).
 */
export const migration013RemoteConfig: Migration = {
  version: 13,
  name: 'remote-config',
  sql: `
CREATE TABLE remote_config (
  scope TEXT PRIMARY KEY,
  settings TEXT NOT NULL,
  version INTEGER NOT NULL UNIQUE CHECK (version >= 1),
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE TABLE kiosk_reported_state (
  kiosk_id TEXT PRIMARY KEY REFERENCES kiosks(id),
  applied_version INTEGER NOT NULL DEFAULT 0,
  restart_pending INTEGER NOT NULL DEFAULT 0 CHECK (restart_pending IN (0, 1)),
  rejected_version INTEGER,
  rejected_code TEXT,
  rejected_reason TEXT,
  rejected_errors TEXT,
  cache_used_bytes INTEGER,
  cache_max_bytes INTEGER,
  reported_at TEXT NOT NULL
) STRICT;
`,
};
