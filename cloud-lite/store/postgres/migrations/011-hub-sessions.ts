import type { PgMigration } from '../migrate.js';

/** SQLite's migration 011 (sqlite/migrations/011-hub-sessions.ts): the hub process holding a kiosk's socket. */
export const pgMigration011HubSessions: PgMigration = {
  version: 11,
  name: 'hub-sessions',
  sql: `
ALTER TABLE kiosks ADD COLUMN hub_process TEXT;
`,
};
