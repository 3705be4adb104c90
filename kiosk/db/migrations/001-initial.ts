/**
 * 001: the kiosk's durable state. STRICT tables; timestamps are ISO 8601 text from the
 * hub-corrected clock; JSON columns hold text checked with json_valid().
 */
export const sql = `
CREATE TABLE identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  kiosk_id TEXT NOT NULL,
  secret_ref TEXT,
  hub_public_key TEXT,
  clock_offset_ms INTEGER NOT NULL DEFAULT 0,
  clock_synced_at TEXT
) STRICT;

CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('outbox_seq', 0);

CREATE TABLE disks (
  disk_id TEXT PRIMARY KEY,
  usb_serial TEXT,
  capacity_bytes INTEGER,
  content_id TEXT,
  content_version TEXT,
  write_protected INTEGER NOT NULL DEFAULT 0 CHECK (write_protected IN (0, 1)),
  last_seen_slot INTEGER,
  health TEXT NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'good', 'degraded', 'bad')),
  updated_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX disks_usb_serial ON disks (usb_serial) WHERE usb_serial IS NOT NULL;

CREATE TABLE slots (
  slot INTEGER PRIMARY KEY CHECK (slot >= 1),
  state TEXT NOT NULL DEFAULT 'empty' CHECK (state IN
    ('empty', 'loaded', 'preparing', 'ready', 'reserved', 'dispensing', 'returned', 'fault', 'disabled')),
  disk_id TEXT REFERENCES disks (disk_id) DEFERRABLE INITIALLY DEFERRED,
  reservation_id TEXT,
  write_protect INTEGER NOT NULL DEFAULT 0 CHECK (write_protect IN (0, 1)),
  fault_code TEXT,
  fault_message TEXT,
  disabled_from TEXT,
  updated_at TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE inbox (
  command_id TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  payload TEXT NOT NULL CHECK (json_valid(payload)),
  state TEXT NOT NULL CHECK (state IN ('received', 'executing', 'done', 'failed')),
  response TEXT CHECK (response IS NULL OR json_valid(response)),
  step TEXT,
  received_at TEXT NOT NULL,
  finished_at TEXT
) STRICT;
CREATE INDEX inbox_unfinished ON inbox (state) WHERE state IN ('received', 'executing');

CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  data TEXT NOT NULL CHECK (json_valid(data)),
  at TEXT NOT NULL
) STRICT;

CREATE TABLE reservations (
  reservation_id TEXT PRIMARY KEY,
  command_id TEXT NOT NULL,
  slot INTEGER REFERENCES slots (slot),
  content_id TEXT NOT NULL,
  content_version TEXT NOT NULL,
  write_protect INTEGER NOT NULL DEFAULT 0 CHECK (write_protect IN (0, 1)),
  hold_until TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN
    ('preparing', 'held', 'dispensed', 'cancelled', 'expired', 'failed')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX reservations_active ON reservations (state, hold_until);

CREATE TABLE nonces (
  nonce TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX nonces_expiry ON nonces (expires_at);
`;
