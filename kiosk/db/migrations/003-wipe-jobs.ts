/**
 * 003: the wipe jobs. A returned-disk check or a wipe records its slot here in the same
 * transaction that moves the slot to `preparing`, and deletes the row in the one that
 * moves it out. A row left behind by a crash tells the next start that the disk in that
 * slot may still hold a renter's data: the check or wipe is resumed before the disk can
 * be used again.
 */
export const sql = `
CREATE TABLE wipe_jobs (
  slot INTEGER PRIMARY KEY REFERENCES slots (slot),
  disk_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('check', 'wipe')),
  mode TEXT NOT NULL CHECK (mode IN ('quick', 'full')),
  write_protected INTEGER NOT NULL DEFAULT 0 CHECK (write_protected IN (0, 1)),
  command_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 1,
  started_at TEXT NOT NULL
) STRICT;
`;
