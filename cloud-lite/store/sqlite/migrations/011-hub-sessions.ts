import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * The session registry of several hub processes (docs/postgres.md, "Several processes"): the
 * hub process that holds a kiosk's live socket. A new connection on any process takes the
 * row (the newest wins); the process whose socket it replaced closes that socket with 4001.
 * One SQLite process is always the holder; the column keeps the two stores alike.
 */
export const migration011HubSessions: Migration = {
  version: 11,
  name: 'hub-sessions',
  sql: `
ALTER TABLE kiosks ADD COLUMN hub_process TEXT;
`,
};
