import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Disks that left a kiosk slot outside a dispense with no order to bill (DiskRemoved), kept
 * for the operator until the disk is returned; and the index that finds the last order at a
 * kiosk's slot (which order a pulled disk belongs to).
 */
export const migration003MissingDisks: Migration = {
  version: 3,
  name: 'missing-disks',
  sql: `
CREATE TABLE missing_disks (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  disk_id TEXT,
  kiosk_id TEXT NOT NULL,
  slot INTEGER NOT NULL,
  slot_state TEXT NOT NULL,
  reason TEXT NOT NULL,
  door TEXT CHECK (door IN ('open', 'closed')),
  order_id TEXT,
  flagged_at TEXT NOT NULL,
  cleared_at TEXT,
  cleared_by TEXT
) STRICT;
CREATE INDEX missing_disks_open ON missing_disks(disk_id) WHERE cleared_at IS NULL;
CREATE INDEX orders_kiosk_slot ON orders(kiosk_id, slot, created_at);
`,
};
