import type { Migration } from '../../../../common/sqlite-migrate.js';

/** Kiosk registry, enrolment tokens, slot inventory, durable commands, event log. */
export const migration001Hub: Migration = {
  version: 1,
  name: 'hub',
  sql: `
CREATE TABLE kiosks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL,
  secret_hash BLOB,
  revoked_at TEXT,
  status TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline')),
  last_seen_at TEXT,
  connected_at TEXT,
  software_version TEXT,
  image_version TEXT,
  slot_count INTEGER,
  last_boot_at TEXT,
  boot_reason TEXT,
  last_seq INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE enrolment_tokens (
  token_hash BLOB PRIMARY KEY,
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
) STRICT;
CREATE INDEX enrolment_tokens_kiosk ON enrolment_tokens(kiosk_id);

CREATE TABLE slots (
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  slot INTEGER NOT NULL,
  state TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (kiosk_id, slot)
) STRICT, WITHOUT ROWID;

CREATE TABLE commands (
  id TEXT PRIMARY KEY,
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  action TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending','sent','accepted','rejected','completed','failed','expired')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  deadline TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_sent_at TEXT,
  result TEXT
) STRICT;
CREATE INDEX commands_kiosk_created ON commands(kiosk_id, created_at);
CREATE INDEX commands_outstanding ON commands(state, deadline) WHERE state IN ('pending', 'sent');

CREATE TABLE events (
  event_id TEXT PRIMARY KEY,
  kiosk_id TEXT NOT NULL REFERENCES kiosks(id),
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  data TEXT NOT NULL,
  received_at TEXT NOT NULL
) STRICT;
CREATE INDEX events_kiosk_seq ON events(kiosk_id, seq);
`,
};
