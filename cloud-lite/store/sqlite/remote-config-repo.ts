import type Database from 'better-sqlite3';
import type {
  KioskCacheUse,
  KioskReportedStateRecord,
  RemoteConfigRecord,
  RemoteConfigRepo,
} from '../repos/remote-config-repo.js';
import { table } from './table.js';

export function sqliteRemoteConfigRepo(db: Database.Database): RemoteConfigRepo {
  const t = table<RemoteConfigRecord>(db, {
    name: 'remote_config',
    key: 'scope',
    json: ['settings'],
  });
  const r = table<KioskReportedStateRecord>(db, {
    name: 'kiosk_reported_state',
    key: 'kioskId',
    json: ['rejectedErrors', 'configLacking'],
    bool: ['restartPending'],
  });
  const highest = () =>
    (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM remote_config').get() as { v: number })
      .v;
  return {
    get: t.get,
    async list() {
      return t.all('SELECT * FROM remote_config ORDER BY scope');
    },
    async put(rec) {
      db.prepare(
        `INSERT INTO remote_config (scope, settings, version, updated_by, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (scope) DO UPDATE SET settings = excluded.settings, version = excluded.version,
           updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      ).run(rec.scope, JSON.stringify(rec.settings), rec.version, rec.updatedBy, rec.updatedAt);
    },
    async nextVersion() {
      return highest() + 1;
    },
    async highestIssued() {
      return highest();
    },
    reported: r.get,
    async listReported() {
      return r.all('SELECT * FROM kiosk_reported_state ORDER BY kiosk_id');
    },
    async listCacheUse() {
      return db
        .prepare(
          `SELECT kiosk_id AS kioskId, cache_used_bytes AS cacheUsedBytes,
             cache_max_bytes AS cacheMaxBytes, reported_at AS reportedAt
           FROM kiosk_reported_state
           WHERE cache_used_bytes IS NOT NULL AND cache_max_bytes IS NOT NULL AND cache_max_bytes <> 0
           ORDER BY kiosk_id`,
        )
        .all() as KioskCacheUse[];
    },
    async reportApplied(kioskId, a) {
      // Only a version this hub issued (or 0: none) is recorded.
      const { changes } = db
        .prepare(
          `INSERT INTO kiosk_reported_state (kiosk_id, applied_version, restart_pending, reported_at)
         SELECT ?, ?, ?, ? WHERE ? <= (SELECT COALESCE(MAX(version), 0) FROM remote_config)
         ON CONFLICT (kiosk_id) DO UPDATE SET applied_version = excluded.applied_version,
           restart_pending = excluded.restart_pending, reported_at = excluded.reported_at,
           rejected_version = CASE WHEN rejected_version <= excluded.applied_version THEN NULL ELSE rejected_version END,
           rejected_code = CASE WHEN rejected_version <= excluded.applied_version THEN NULL ELSE rejected_code END,
           rejected_reason = CASE WHEN rejected_version <= excluded.applied_version THEN NULL ELSE rejected_reason END,
           rejected_errors = CASE WHEN rejected_version <= excluded.applied_version THEN NULL ELSE rejected_errors END`,
        )
        .run(kioskId, a.version, a.restartPending ? 1 : 0, a.at, a.version);
      return changes > 0;
    },
    async reportRejected(kioskId, j) {
      db.prepare(
        `INSERT INTO kiosk_reported_state (kiosk_id, rejected_version, rejected_code, rejected_reason, rejected_errors, reported_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (kiosk_id) DO UPDATE SET rejected_version = excluded.rejected_version,
           rejected_code = excluded.rejected_code, rejected_reason = excluded.rejected_reason,
           rejected_errors = excluded.rejected_errors, reported_at = excluded.reported_at`,
      ).run(
        kioskId,
        j.version,
        j.code,
        j.reason,
        j.errors === null ? null : JSON.stringify(j.errors),
        j.at,
      );
    },
    async setConfigLacking(kioskId, features) {
      db.prepare('UPDATE kiosk_reported_state SET config_lacking = ? WHERE kiosk_id = ?').run(
        features === null ? null : JSON.stringify(features),
        kioskId,
      );
    },
    async reportCache(kioskId, c) {
      db.prepare(
        `INSERT INTO kiosk_reported_state (kiosk_id, cache_used_bytes, cache_max_bytes, reported_at)
         VALUES (?, ?, ?, ?)
         ON CONFLICT (kiosk_id) DO UPDATE SET cache_used_bytes = excluded.cache_used_bytes,
           cache_max_bytes = excluded.cache_max_bytes, reported_at = excluded.reported_at`,
      ).run(kioskId, c.usedBytes, c.maxBytes, c.at);
    },
  };
}
