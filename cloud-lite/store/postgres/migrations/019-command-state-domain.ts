import type { PgMigration } from '../migrate.js';

/**
 * commands.state's allowed values as a domain's CHECK instead of the table's: the same rule,
 * checked on every row written, but PostgreSQL reads and plans a table's CHECK again for every
 * INSERT and UPDATE (ExecConstraints: stringToNode and expression_planner of the stored
 * expression, per statement), while a domain's is read and planned once per connection (its
 * type cache). Per command (an INSERT and an UPDATE) that was a quarter of PostgreSQL's
 * instructions: 608k -> 453k under callgrind (scripts/bench/pg-floor.ts). No table rewrite:
 * the column's type becomes the domain over the same text, then the domain's CHECK scans the
 * existing rows once. SQLite's twin (sqlite/migrations/019-command-state-domain.ts) changes
 * nothing: its CHECK is compiled into each prepared statement.
 */
export const pgMigration019CommandStateDomain: PgMigration = {
  version: 19,
  name: 'command-state-domain',
  sql: `
CREATE DOMAIN command_state AS TEXT;
ALTER TABLE commands ALTER COLUMN state TYPE command_state;
ALTER DOMAIN command_state ADD CONSTRAINT command_state_check
  CHECK (VALUE IN ('pending','sent','accepted','rejected','completed','failed','expired'));
ALTER TABLE commands DROP CONSTRAINT commands_state_check;
`,
};
