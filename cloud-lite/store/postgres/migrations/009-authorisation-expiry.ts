import type { PgMigration } from '../migrate.js';

/** SQLite's migration 009 (sqlite/migrations/009-authorisation-expiry.ts): when an authorisation lapses. */
export const pgMigration009AuthorisationExpiry: PgMigration = {
  version: 9,
  name: 'authorisation-expiry',
  sql: `
ALTER TABLE payments ADD COLUMN authorised_until TEXT;
CREATE INDEX payments_authorised_until ON payments(state, authorised_until);
`,
};
