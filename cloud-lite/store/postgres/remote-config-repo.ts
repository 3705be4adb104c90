import type {
  KioskCacheUse,
  KioskReportedStateRecord,
  RemoteConfigRecord,
  RemoteConfigRepo,
} from '../repos/remote-config-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

/** A refusal is cleared when the kiosk runs a version not below it. */
const CLEAR = (col: string) =>
  `${col} = CASE WHEN kiosk_reported_state.rejected_version <= EXCLUDED.applied_version THEN NULL ELSE kiosk_reported_state.${col} END`;

export function pgRemoteConfigRepo(sql: Sql): RemoteConfigRepo {
  const t = pgTable<RemoteConfigRecord>(sql, {
    name: 'remote_config',
    key: 'scope',
    json: ['settings'],
  });
  const r = pgTable<KioskReportedStateRecord>(sql, {
    name: 'kiosk_reported_state',
    key: 'kioskId',
    json: ['rejectedErrors', 'configLacking'],
  });
  const highest = async () =>
    Number((await sql.one('SELECT COALESCE(MAX(version), 0) AS v FROM remote_config'))?.v ?? 0);
  return {
    get: t.get,
    list: () => t.all('SELECT * FROM remote_config ORDER BY scope'),
    async put(rec) {
      await sql.run(
        `INSERT INTO remote_config (scope, settings, version, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (scope) DO UPDATE SET settings = EXCLUDED.settings, version = EXCLUDED.version,
           updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
        [rec.scope, JSON.stringify(rec.settings), rec.version, rec.updatedBy, rec.updatedAt],
      );
    },
    async nextVersion() {
      return (await highest()) + 1;
    },
    highestIssued: highest,
    reported: r.get,
    listReported: () => r.all('SELECT * FROM kiosk_reported_state ORDER BY kiosk_id'),
    listCacheUse: () =>
      sql.rows<KioskCacheUse>(
        `SELECT kiosk_id AS "kioskId", cache_used_bytes AS "cacheUsedBytes",
           cache_max_bytes AS "cacheMaxBytes", reported_at AS "reportedAt"
         FROM kiosk_reported_state
         WHERE cache_used_bytes IS NOT NULL AND cache_max_bytes IS NOT NULL AND cache_max_bytes <> 0
         ORDER BY kiosk_id`,
      ),
    async reportApplied(kioskId, a) {
      // Only a version this hub issued (or 0: none) is recorded.
      const n = await sql.run(
        `INSERT INTO kiosk_reported_state (kiosk_id, applied_version, restart_pending, reported_at)
         SELECT $1::text, $2::bigint, $3::boolean, $4::text
         WHERE $2::bigint <= (SELECT COALESCE(MAX(version), 0) FROM remote_config)
         ON CONFLICT (kiosk_id) DO UPDATE SET applied_version = EXCLUDED.applied_version,
           restart_pending = EXCLUDED.restart_pending, reported_at = EXCLUDED.reported_at,
           ${['rejected_version', 'rejected_code', 'rejected_reason', 'rejected_errors'].map(CLEAR).join(', ')}`,
        [kioskId, a.version, a.restartPending, a.at],
      );
      return n > 0;
    },
    async reportRejected(kioskId, j) {
      await sql.run(
        `INSERT INTO kiosk_reported_state (kiosk_id, rejected_version, rejected_code, rejected_reason, rejected_errors, reported_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kiosk_id) DO UPDATE SET rejected_version = EXCLUDED.rejected_version,
           rejected_code = EXCLUDED.rejected_code, rejected_reason = EXCLUDED.rejected_reason,
           rejected_errors = EXCLUDED.rejected_errors, reported_at = EXCLUDED.reported_at`,
        [
          kioskId,
          j.version,
          j.code,
          j.reason,
          j.errors === null ? null : JSON.stringify(j.errors),
          j.at,
        ],
      );
    },
    async setConfigLacking(kioskId, features) {
      await sql.run('UPDATE kiosk_reported_state SET config_lacking = $1 WHERE kiosk_id = $2', [
        features === null ? null : JSON.stringify(features),
        kioskId,
      ]);
    },
    async reportCache(kioskId, c) {
      await sql.run(
        `INSERT INTO kiosk_reported_state (kiosk_id, cache_used_bytes, cache_max_bytes, reported_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (kiosk_id) DO UPDATE SET cache_used_bytes = EXCLUDED.cache_used_bytes,
           cache_max_bytes = EXCLUDED.cache_max_bytes, reported_at = EXCLUDED.reported_at`,
        [kioskId, c.usedBytes, c.maxBytes, c.at],
      );
    },
  };
}
