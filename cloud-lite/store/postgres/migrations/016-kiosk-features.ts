import type { PgMigration } from '../migrate.js';

/** SQLite's migration 016 (sqlite/migrations/016-kiosk-features.ts): Boot's protocol features. */
export const pgMigration016KioskFeatures: PgMigration = {
  version: 16,
  name: 'kiosk-features',
  sql: `
ALTER TABLE kiosks ADD COLUMN features JSONB;
`,
};
