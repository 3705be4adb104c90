import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * Settings left out of a kiosk's remote configuration (docs/remote-operations.md): the protocol
 * features the last ApplyConfig sent to a kiosk lacked (its settings needing them were left
 * out; a JSON array, null: none), so that a Boot listing one of them completes them.
 */
export const migration018ConfigLacking: Migration = {
  version: 18,
  name: 'config-lacking',
  sql: `
ALTER TABLE kiosk_reported_state ADD COLUMN config_lacking TEXT;
`,
};
