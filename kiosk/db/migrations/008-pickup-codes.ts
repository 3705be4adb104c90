/**
 * 008: pickup codes (docs/pickup-codes.md). `pickup_codes`: one armed code per reservation
 * (ArmPickupCode), only its salted scrypt hash; `state` armed -> used (it dispensed) or
 * disarmed (the reservation was cancelled). `pickup_throttle`: the kiosk's one row of wrong
 * codes and lockouts, so a restart does not reset a lockout.
 */
export const sql = `
CREATE TABLE pickup_codes (
  reservation_id TEXT PRIMARY KEY,
  arm_command_id TEXT NOT NULL,
  slot INTEGER NOT NULL,
  disk_id TEXT NOT NULL,
  write_protect INTEGER NOT NULL CHECK (write_protect IN (0, 1)),
  pickup_window_seconds INTEGER NOT NULL,
  expires_at TEXT NOT NULL,
  hash TEXT NOT NULL,
  signature TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('armed', 'used', 'disarmed')),
  dispense_command_id TEXT,
  armed_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX pickup_codes_expiry ON pickup_codes (expires_at);

CREATE TABLE pickup_throttle (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  failures INTEGER NOT NULL,
  lockouts INTEGER NOT NULL,
  locked_until TEXT,
  updated_at TEXT NOT NULL
) STRICT;
`;
