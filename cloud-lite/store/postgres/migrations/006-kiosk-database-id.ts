import type { PgMigration } from '../migrate.js';

/** SQLite's migration 006 (sqlite/migrations/006-kiosk-database-id.ts): the kiosk database's id. */
export const pgMigration006KioskDatabaseId: PgMigration = {
  version: 6,
  name: 'kiosk-database-id',
  sql: `
ALTER TABLE kiosks ADD COLUMN database_id TEXT;
ALTER TABLE kiosks ADD COLUMN seq_since TEXT;
`,
};
