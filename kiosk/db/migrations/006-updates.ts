/**
 * 006: software updates (kiosk/update). One row per update, from InstallUpdate or a
 * technician's `kioskctl update install`; at most one not yet final (committed, rolled_back,
 * failed). The row outlives the reboot into the new slot (the data partition is shared by
 * both root slots), which is how kioskd on either slot knows what happened.
 */
export const sql = `
CREATE TABLE updates (
  update_id TEXT PRIMARY KEY,
  command_id TEXT UNIQUE,
  version TEXT NOT NULL,
  from_version TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('hub', 'technician')),
  actor TEXT,
  bundle_url TEXT,
  sha256 TEXT,
  size INTEGER CHECK (size IS NULL OR size > 0),
  deadline TEXT,
  bundle_file TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('downloading', 'waiting', 'installing', 'rebooting',
    'trial', 'committed', 'rolled_back', 'failed')),
  from_slot TEXT,
  board_ok INTEGER NOT NULL DEFAULT 1 CHECK (board_ok IN (0, 1)),
  code TEXT,
  reason TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX updates_created ON updates (created_at);
`;
