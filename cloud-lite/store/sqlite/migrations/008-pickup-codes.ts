import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Pickup codes (docs/pickup-codes.md): the ArmPickupCode command that sent a ready
 * reservation's code hash to its kiosk. Set: the kiosk may dispense against the code without
 * the hub, so the hub waits for the kiosk's events before it expires the reservation (no
 * no-show fee for a pickup the kiosk may have honoured) and refuses a cancel while the kiosk is
 * offline. The code itself is never stored: it is derived from the hub's signing key.
 */
export const migration008PickupCodes: Migration = {
  version: 8,
  name: 'pickup-codes',
  sql: `
ALTER TABLE reservations ADD COLUMN pickup_code_command_id TEXT;
`,
};
