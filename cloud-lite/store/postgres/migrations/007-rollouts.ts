import type { PgMigration } from '../migrate.js';

/** SQLite's migration 007 (sqlite/migrations/007-rollouts.ts): software rollouts and their kiosks. */
export const pgMigration007Rollouts: PgMigration = {
  version: 7,
  name: 'rollouts',
  sql: `
CREATE TABLE rollouts (
  id TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  bundle_sha256 TEXT NOT NULL,
  bundle_size BIGINT NOT NULL CHECK (bundle_size > 0),
  waves JSONB NOT NULL,
  wave_spec JSONB NOT NULL,
  max_failure_rate DOUBLE PRECISION NOT NULL CHECK (max_failure_rate >= 0 AND max_failure_rate <= 1),
  install_window_seconds BIGINT NOT NULL CHECK (install_window_seconds > 0),
  current_wave BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'halted', 'completed', 'cancelled')),
  reason TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX rollouts_state ON rollouts(state);
CREATE TABLE rollout_kiosks (
  rollout_id TEXT NOT NULL REFERENCES rollouts(id),
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  position BIGINT NOT NULL,
  wave BIGINT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'downloading', 'waiting', 'installing',
    'rebooting', 'trial', 'committed', 'failed', 'rolled_back')),
  command_id TEXT,
  attempts BIGINT NOT NULL DEFAULT 0,
  from_version TEXT,
  code TEXT,
  reason TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (rollout_id, kiosk_id)
);
CREATE UNIQUE INDEX rollout_kiosks_command ON rollout_kiosks(command_id) WHERE command_id IS NOT NULL;
`,
};
