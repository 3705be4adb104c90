import type Database from 'better-sqlite3';
import type { DiagnosticsRecord, DiagnosticsRepo } from '../repos/diagnostics-repo.js';
import { table } from './table.js';

/** Every column but the bytes. */
const COLS =
  'id, kiosk_id, kind, lines, level, state, command_id, requested_by, requested_at, finished_at, size_bytes, sha256, failure';

export function sqliteDiagnosticsRepo(db: Database.Database): DiagnosticsRepo {
  const t = table<DiagnosticsRecord>(db, { name: 'kiosk_diagnostics', key: 'id' });
  return {
    insert: t.insert,
    async get(id) {
      return t.one(`SELECT ${COLS} FROM kiosk_diagnostics WHERE id = ?`, id);
    },
    async listForKiosk(kioskId, limit) {
      return t.all(
        `SELECT ${COLS} FROM kiosk_diagnostics WHERE kiosk_id = ? ORDER BY requested_at DESC, id DESC LIMIT ?`,
        kioskId,
        limit,
      );
    },
    async setCommand(id, commandId) {
      db.prepare('UPDATE kiosk_diagnostics SET command_id = ? WHERE id = ?').run(commandId, id);
    },
    async putUpload(id, u) {
      return (
        db
          .prepare(
            `UPDATE kiosk_diagnostics SET state = 'uploaded', finished_at = ?, data = ?, size_bytes = ?, sha256 = ?
             WHERE id = ? AND state = 'requested'`,
          )
          .run(u.at, u.data, u.data.length, u.sha256, id).changes === 1
      );
    },
    async fail(id, at, failure) {
      return (
        db
          .prepare(
            `UPDATE kiosk_diagnostics SET state = 'failed', finished_at = ?, failure = ?
             WHERE id = ? AND state = 'requested'`,
          )
          .run(at, failure, id).changes === 1
      );
    },
    async data(id) {
      const r = db.prepare('SELECT data FROM kiosk_diagnostics WHERE id = ?').get(id) as
        | { data: Buffer | null }
        | undefined;
      return r?.data ?? undefined;
    },
  };
}
