import type { PgMigration } from '../migrate.js';

/** SQLite's migration 012 (sqlite/migrations/012-kiosk-diagnostics.ts): remote diagnostics requests and uploads. */
export const pgMigration012KioskDiagnostics: PgMigration = {
  version: 12,
  name: 'kiosk-diagnostics',
  sql: `
CREATE TABLE kiosk_diagnostics (
  id TEXT PRIMARY KEY,
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  kind TEXT NOT NULL CHECK (kind IN ('bundle', 'logs')),
  lines BIGINT,
  level TEXT,
  state TEXT NOT NULL CHECK (state IN ('requested', 'uploaded', 'failed')),
  command_id TEXT,
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  finished_at TEXT,
  size_bytes BIGINT,
  sha256 TEXT,
  failure TEXT,
  data BYTEA
);
CREATE INDEX kiosk_diagnostics_by_kiosk ON kiosk_diagnostics (kiosk_id, requested_at);
`,
};
