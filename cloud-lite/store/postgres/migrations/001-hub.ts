import type { PgMigration } from '../migrate.js';

/**
 * Kiosk registry, enrolment tokens, slot inventory, durable commands, event log: SQLite's
 * migration 001 (sqlite/migrations/001-hub.ts) in PostgreSQL's types. Integers are BIGINT
 * (SQLite's are 64-bit), JSON columns jsonb, blobs bytea; timestamps stay ISO-8601 text as
 * in SQLite, so both stores compare and order them alike. `row_no` keeps insertion order
 * where SQLite's rowid breaks ties.
 */
export const pgMigration001Hub: PgMigration = {
  version: 1,
  name: 'hub',
  sql: `
CREATE TABLE kiosks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  secret_hash BYTEA,
  revoked_at TEXT,
  status TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline')),
  last_seen_at TEXT,
  connected_at TEXT,
  software_version TEXT,
  image_version TEXT,
  slot_count BIGINT,
  last_boot_at TEXT,
  boot_reason TEXT,
  last_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE enrolment_tokens (
  token_hash BYTEA PRIMARY KEY,
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX enrolment_tokens_kiosk ON enrolment_tokens(kiosk_id);

CREATE TABLE slots (
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  slot BIGINT NOT NULL,
  state TEXT NOT NULL,
  snapshot JSONB NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (kiosk_id, slot)
);

CREATE TABLE commands (
  id TEXT PRIMARY KEY,
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  action TEXT NOT NULL,
  payload JSONB NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','sent','accepted','rejected','completed','failed','expired')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deadline TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  last_sent_at TEXT,
  result JSONB,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX commands_kiosk_created ON commands(kiosk_id, created_at);
CREATE INDEX commands_outstanding ON commands(state, deadline) WHERE state IN ('pending', 'sent');

CREATE TABLE events (
  event_id TEXT PRIMARY KEY,
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  seq BIGINT NOT NULL,
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  data JSONB NOT NULL,
  received_at TEXT NOT NULL,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX events_kiosk_seq ON events(kiosk_id, seq);
`,
};
