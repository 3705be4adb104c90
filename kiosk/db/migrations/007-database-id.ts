/**
 * 007: a random id of this database, made once (by ensureIdentity) and sent in Boot, so the
 * hub can tell a kiosk whose database was replaced (an SD card re-flashed, a lost data
 * partition) and whose event numbers therefore start again at 1.
 */
export const sql = `
ALTER TABLE identity ADD COLUMN database_id TEXT;
`;
