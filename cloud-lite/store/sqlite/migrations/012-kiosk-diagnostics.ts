import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Remote diagnostics (docs/remote-operations.md): an operator's request for a kiosk's
 * diagnostics bundle or log lines, the UploadDiagnostics command that asked, and the bytes
 * the kiosk uploaded (kept in the store so any hub process serves the download).
 */
export const migration012KioskDiagnostics: Migration = {
  version: 12,
  name: 'kiosk-diagnostics',
  sql: `
CREATE TABLE kiosk_diagnostics (
  id TEXT PRIMARY KEY,
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  kind TEXT NOT NULL CHECK (kind IN ('bundle', 'logs')),
  lines INTEGER,
  level TEXT,
  state TEXT NOT NULL CHECK (state IN ('requested', 'uploaded', 'failed')),
  command_id TEXT,
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  finished_at TEXT,
  size_bytes INTEGER,
  sha256 TEXT,
  failure TEXT,
  data BLOB
) STRICT;
CREATE INDEX kiosk_diagnostics_by_kiosk ON kiosk_diagnostics (kiosk_id, requested_at);
`,
};
