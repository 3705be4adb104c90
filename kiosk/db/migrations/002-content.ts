/**
 * 002: the content cache index and the prepare jobs. Blobs are files named by SHA-256
 * under `<dataDir>/cache/sha256/`; these tables say which content uses which blobs,
 * when it was last used (LRU), and who pins it (reservations, pre-staging, clones).
 */
export const sql = `
CREATE TABLE content (
  content_id TEXT NOT NULL,
  version TEXT NOT NULL,
  title TEXT NOT NULL,
  manifest TEXT NOT NULL CHECK (json_valid(manifest)),
  total_bytes INTEGER NOT NULL CHECK (total_bytes >= 0),
  complete INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
  added_at TEXT NOT NULL,
  last_used_at TEXT NOT NULL,
  PRIMARY KEY (content_id, version)
) STRICT;
CREATE INDEX content_lru ON content (last_used_at);

CREATE TABLE content_files (
  content_id TEXT NOT NULL,
  version TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  sha256 TEXT NOT NULL,
  PRIMARY KEY (content_id, version, path),
  FOREIGN KEY (content_id, version) REFERENCES content (content_id, version) ON DELETE CASCADE
) STRICT;
CREATE INDEX content_files_sha256 ON content_files (sha256);

CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL CHECK (size >= 0),
  added_at TEXT NOT NULL
) STRICT;

CREATE TABLE content_pins (
  content_id TEXT NOT NULL,
  version TEXT NOT NULL,
  pin TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (content_id, version, pin)
) STRICT;

CREATE TABLE prepare_jobs (
  command_id TEXT PRIMARY KEY,
  reservation_id TEXT NOT NULL,
  payload TEXT NOT NULL CHECK (json_valid(payload)),
  state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
  slot INTEGER,
  attempts INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX prepare_jobs_running ON prepare_jobs (state) WHERE state = 'running';
`;
