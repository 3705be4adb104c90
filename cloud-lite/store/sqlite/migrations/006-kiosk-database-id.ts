import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * The id of the kiosk's own database (Boot's `databaseId`) and, once it changed, when: events
 * received before `seq_since` belong to the lost database, so their seqs do not count against
 * the new one's (which start again at 1).
 */
export const migration006KioskDatabaseId: Migration = {
  version: 6,
  name: 'kiosk-database-id',
  sql: `
ALTER TABLE kiosks ADD COLUMN database_id TEXT;
ALTER TABLE kiosks ADD COLUMN seq_since TEXT;
`,
};
