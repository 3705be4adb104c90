import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * The twin of PostgreSQL's migration 019 (postgres/migrations/019-command-state-domain.ts:
 * commands.state's CHECK moved to a domain, which PostgreSQL does not re-read per statement).
 * Nothing changes here: SQLite compiles the table's CHECK into each prepared statement once.
 */
export const migration019CommandStateDomain: Migration = {
  version: 19,
  name: 'command-state-domain',
  sql: `
SELECT 1;
`,
};
