import type { DiagnosticsRecord, DiagnosticsRepo } from '../repos/diagnostics-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

/** Every column but the bytes. */
const COLS =
  'id, kiosk_id, kind, lines, level, state, command_id, requested_by, requested_at, finished_at, size_bytes, sha256, failure';

export function pgDiagnosticsRepo(sql: Sql): DiagnosticsRepo {
  const t = pgTable<DiagnosticsRecord>(sql, { name: 'kiosk_diagnostics', key: 'id' });
  return {
    insert: t.insert,
    get: (id) => t.one(`SELECT ${COLS} FROM kiosk_diagnostics WHERE id = $1`, id),
    listForKiosk: (kioskId, limit) =>
      t.all(
        `SELECT ${COLS} FROM kiosk_diagnostics WHERE kiosk_id = $1 ORDER BY requested_at DESC, id DESC LIMIT $2`,
        kioskId,
        limit,
      ),
    async setCommand(id, commandId) {
      await sql.run('UPDATE kiosk_diagnostics SET command_id = $1 WHERE id = $2', [commandId, id]);
    },
    async putUpload(id, u) {
      const n = await sql.run(
        `UPDATE kiosk_diagnostics SET state = 'uploaded', finished_at = $1, data = $2, size_bytes = $3, sha256 = $4
         WHERE id = $5 AND state = 'requested'`,
        [u.at, u.data, u.data.length, u.sha256, id],
      );
      return n === 1;
    },
    async fail(id, at, failure) {
      const n = await sql.run(
        `UPDATE kiosk_diagnostics SET state = 'failed', finished_at = $1, failure = $2
         WHERE id = $3 AND state = 'requested'`,
        [at, failure, id],
      );
      return n === 1;
    },
    async data(id) {
      const r = await sql.one('SELECT data FROM kiosk_diagnostics WHERE id = $1', [id]);
      return (r?.data as Buffer | null | undefined) ?? undefined;
    },
  };
}
