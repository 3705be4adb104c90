/**
 * 004: every reformat of a `ready` disk (its content destroyed), written in the transaction
 * that moves the slot `ready -> preparing`. `slot_version` is the slot's version after that
 * change (the `version` of its SlotStateChanged snapshot), so an auditor (the fleet
 * simulation's checker) can match each row to the event and prove no ready stock was lost
 * without a cause: a reservation the hub allowed to reformat ready stock (`keep_ready` as the
 * hub sent it, `ready_left` as the kiosk counted), an operator's wipe, or a technician's clone.
 */
export const sql = `
CREATE TABLE ready_reformats (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  slot INTEGER NOT NULL,
  slot_version INTEGER NOT NULL,
  disk_id TEXT,
  from_content_id TEXT,
  from_content_version TEXT,
  to_content_id TEXT,
  to_content_version TEXT,
  cause TEXT NOT NULL CHECK (cause IN ('reservation', 'wipe', 'clone')),
  command_id TEXT,
  reservation_id TEXT,
  keep_ready INTEGER,
  ready_left INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX ready_reformats_slot_version ON ready_reformats (slot, slot_version);
`;
