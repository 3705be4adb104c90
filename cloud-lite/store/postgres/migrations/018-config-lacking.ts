import type { PgMigration } from '../migrate.js';

/** SQLite's migration 018 (sqlite/migrations/018-config-lacking.ts): settings left out. */
export const pgMigration018ConfigLacking: PgMigration = {
  version: 18,
  name: 'config-lacking',
  sql: `
ALTER TABLE kiosk_reported_state ADD COLUMN config_lacking JSONB;
`,
};
