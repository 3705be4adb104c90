import type { PgMigration } from '../migrate.js';

/** SQLite's migration 017 (sqlite/migrations/017-refund-reason.ts): a refund's reason. */
export const pgMigration017RefundReason: PgMigration = {
  version: 17,
  name: 'refund-reason',
  sql: `
ALTER TABLE payments ADD COLUMN reason TEXT;
`,
};
