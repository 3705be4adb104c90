import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Software rollouts (cloud-lite/updates/): a rollout of an image version (a RAUC bundle in the
 * content store) in waves, and its kiosks, each with where its update stands.
 */
export const migration007Rollouts: Migration = {
  version: 7,
  name: 'rollouts',
  sql: `
CREATE TABLE rollouts (
  id TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  bundle_sha256 TEXT NOT NULL,
  bundle_size INTEGER NOT NULL CHECK (bundle_size > 0),
  waves TEXT NOT NULL,
  wave_spec TEXT NOT NULL,
  max_failure_rate REAL NOT NULL CHECK (max_failure_rate >= 0 AND max_failure_rate <= 1),
  install_window_seconds INTEGER NOT NULL CHECK (install_window_seconds > 0),
  current_wave INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'halted', 'completed', 'cancelled')),
  reason TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX rollouts_state ON rollouts(state);
CREATE TABLE rollout_kiosks (
  rollout_id TEXT NOT NULL REFERENCES rollouts(id),
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  position INTEGER NOT NULL,
  wave INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'downloading', 'waiting', 'installing',
    'rebooting', 'trial', 'committed', 'failed', 'rolled_back')),
  command_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  from_version TEXT,
  code TEXT,
  reason TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (rollout_id, kiosk_id)
) STRICT;
CREATE UNIQUE INDEX rollout_kiosks_command ON rollout_kiosks(command_id) WHERE command_id IS NOT NULL;
`,
};
