import type { PgMigration } from '../migrate.js';

/** SQLite's migration 003 (sqlite/migrations/003-missing-disks.ts): disks gone with no order to bill. */
export const pgMigration003MissingDisks: PgMigration = {
  version: 3,
  name: 'missing-disks',
  sql: `
CREATE TABLE missing_disks (
  id TEXT PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  disk_id TEXT,
  kiosk_id TEXT NOT NULL,
  slot BIGINT NOT NULL,
  slot_state TEXT NOT NULL,
  reason TEXT NOT NULL,
  door TEXT CHECK (door IN ('open', 'closed')),
  order_id TEXT,
  flagged_at TEXT NOT NULL,
  cleared_at TEXT,
  cleared_by TEXT,
  row_no BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX missing_disks_open ON missing_disks(disk_id) WHERE cleared_at IS NULL;
CREATE INDEX orders_kiosk_slot ON orders(kiosk_id, slot, created_at);
`,
};
