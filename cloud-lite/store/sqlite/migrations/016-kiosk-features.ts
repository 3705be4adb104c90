import type { Migration } from '../../../../common/sqlite-migrate.js';

/**
 * The protocol features a kiosk's last Boot listed (JSON array of names; NULL: it listed none,
 * so it is taken to understand the baseline, protocol/features.ts). Every hub process reads it
 * when it creates a command for the kiosk, whichever process holds the kiosk's socket.
 */
export const migration016KioskFeatures: Migration = {
  version: 16,
  name: 'kiosk-features',
  sql: `
ALTER TABLE kiosks ADD COLUMN features TEXT;
`,
};
