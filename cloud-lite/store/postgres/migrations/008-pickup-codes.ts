import type { PgMigration } from '../migrate.js';

/** SQLite's migration 008 (sqlite/migrations/008-pickup-codes.ts): the ArmPickupCode of a reservation. */
export const pgMigration008PickupCodes: PgMigration = {
  version: 8,
  name: 'pickup-codes',
  sql: `
ALTER TABLE reservations ADD COLUMN pickup_code_command_id TEXT;
`,
};
