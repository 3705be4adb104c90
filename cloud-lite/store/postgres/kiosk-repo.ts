import type { KioskRecord, KioskRepo, SweptKiosk } from '../repos/kiosk-repo.js';
import type { Sql } from './sql.js';
import { pgTable } from './table.js';

/** application_name of a hub process's cluster connection: this prefix and its process id. */
export const HUB_APPLICATION_PREFIX = 'cloud-lite/';

export function pgKioskRepo(sql: Sql): KioskRepo {
  const kiosks = pgTable<KioskRecord>(sql, {
    name: 'kiosks',
    key: 'id',
    json: ['features'],
  });
  return {
    async insert(k) {
      await sql.run('INSERT INTO kiosks (id, name, created_at) VALUES ($1, $2, $3)', [
        k.id,
        k.name,
        k.createdAt,
      ]);
    },
    get: kiosks.get,
    list: () => kiosks.all('SELECT * FROM kiosks ORDER BY id'),
    listBooted: () =>
      sql.rows<SweptKiosk>(
        `SELECT id, name, status, last_seen_at AS "lastSeenAt", hub_process AS "hubProcess"
         FROM kiosks WHERE revoked_at IS NULL AND last_boot_at IS NOT NULL ORDER BY id`,
      ),
    async setSecretHash(id, hash) {
      await sql.run('UPDATE kiosks SET secret_hash = $1 WHERE id = $2', [hash, id]);
    },
    async revoke(id, at) {
      await sql.run(
        "UPDATE kiosks SET revoked_at = $1, secret_hash = NULL, status = 'offline' WHERE id = $2",
        [at, id],
      );
    },
    async setOnline(id, at, hubProcess = null) {
      const changed = await sql.run(
        `UPDATE kiosks SET status = 'online', connected_at = $1, last_seen_at = $1, hub_process = $3
         WHERE id = $2 AND NOT (hub_process IS NOT NULL AND $3::text IS NOT NULL
           AND hub_process <> $3 AND connected_at IS NOT NULL AND connected_at > $1)`,
        [at, id, hubProcess],
      );
      return changed > 0;
    },
    async setOffline(id, at, hubProcess, connectedAt) {
      const changed = await sql.run(
        `UPDATE kiosks SET status = 'offline', last_seen_at = $1, hub_process = NULL
         WHERE id = $2 AND ($3::text IS NULL OR (hub_process = $3
           AND ($4::text IS NULL OR connected_at IS NULL OR connected_at <= $4)))`,
        [at, id, hubProcess ?? null, connectedAt ?? null],
      );
      return changed > 0;
    },
    async reclaim(hubProcess, sessions) {
      if (sessions.length === 0) return [];
      // Only rows that change: a process re-claiming what it still holds writes nothing.
      const rows = await sql.rows<{ id: string }>(
        `UPDATE kiosks SET status = 'online', connected_at = v.at, hub_process = $3
         FROM unnest($1::text[], $2::text[]) AS v(id, at)
         WHERE kiosks.id = v.id AND kiosks.revoked_at IS NULL
           AND NOT (kiosks.hub_process IS NOT NULL AND kiosks.hub_process <> $3
             AND kiosks.connected_at IS NOT NULL AND kiosks.connected_at > v.at)
           AND (kiosks.status <> 'online' OR kiosks.hub_process IS DISTINCT FROM $3
             OR kiosks.connected_at IS DISTINCT FROM v.at)
         RETURNING kiosks.id`,
        [sessions.map((x) => x.id), sessions.map((x) => x.connectedAt), hubProcess],
      );
      return rows.map((r) => r.id);
    },
    async setAllOffline() {
      await sql.run(
        "UPDATE kiosks SET status = 'offline', hub_process = NULL WHERE status = 'online'",
      );
    },
    async releaseDeadHolders(at, alive) {
      // pg_stat_activity is read once per statement (transaction), before the rows: a row a
      // claim changed meanwhile is checked again (READ COMMITTED) against that read, so a
      // claim by a process whose cluster connection came back since is released too; the
      // caller tells the holders, which re-claim (KioskHub).
      const rows = await sql.rows<{ id: string }>(
        `UPDATE kiosks SET status = 'offline', last_seen_at = $1, hub_process = NULL
         WHERE status = 'online' AND hub_process IS NOT NULL
           AND hub_process IS DISTINCT FROM $3::text AND NOT EXISTS (
             SELECT 1 FROM pg_stat_activity WHERE application_name = $2 || kiosks.hub_process)
         RETURNING id`,
        [at, HUB_APPLICATION_PREFIX, alive ?? null],
      );
      return rows.map((r) => r.id);
    },
    async touchMany(entries) {
      if (entries.length === 0) return;
      await sql.run(
        `UPDATE kiosks SET last_seen_at = v.at FROM unnest($1::text[], $2::text[]) AS v(id, at)
         WHERE kiosks.id = v.id AND (kiosks.last_seen_at IS NULL OR kiosks.last_seen_at < v.at)`,
        [entries.map((e) => e.id), entries.map((e) => e.at)],
      );
    },
    async recordBoot(id, b) {
      // One statement, one round trip: the row's lock is taken and released by it (autocommit)
      // or held to the caller's commit. The claim's guard is setOnline's; database_id is set
      // only where none was recorded (a different one is reported back, left as it was).
      const claim = b.claim;
      const row = await sql.one<{ database_id: string | null; outstanding: boolean }>(
        `UPDATE kiosks SET last_boot_at = $1, software_version = $2, image_version = $3, slot_count = $4,
           boot_reason = $5, last_seen_at = $1, features = $7::jsonb,
           database_id = COALESCE(database_id, $8::text)${
             claim ? ", status = 'online', connected_at = $9, hub_process = $10" : ''
           }
         WHERE id = $6${
           claim
             ? ` AND NOT (hub_process IS NOT NULL AND $10::text IS NOT NULL AND hub_process <> $10
                 AND connected_at IS NOT NULL AND connected_at > $9)`
             : ''
         }
         RETURNING database_id, EXISTS (SELECT 1 FROM commands c
           WHERE c.kiosk_id = kiosks.id AND c.state IN ('pending', 'sent')) AS outstanding`,
        [
          b.at,
          b.softwareVersion,
          b.imageVersion,
          b.slotCount,
          b.bootReason,
          id,
          b.features ? JSON.stringify([...new Set(b.features)]) : null,
          b.databaseId ?? null,
          ...(claim ? [claim.connectedAt, claim.hubProcess] : []),
        ],
      );
      if (!row) return { claimed: false };
      if (b.databaseId && row.database_id !== b.databaseId && row.database_id !== null)
        return {
          claimed: true,
          outstanding: row.outstanding,
          databaseReplaced: true,
          previous: row.database_id,
        };
      return { claimed: true, outstanding: row.outstanding, databaseReplaced: false };
    },
    async replaceDatabase(id, r) {
      // The lost database's last seq: the row as it was (the subquery locks it first).
      const row = await sql.one<{ last_seq: number }>(
        `UPDATE kiosks SET database_id = $1, seq_since = $2, last_seq = 0
         FROM (SELECT id, last_seq FROM kiosks WHERE id = $3 AND database_id = $4 FOR UPDATE) old
         WHERE kiosks.id = old.id AND kiosks.database_id = $4 RETURNING old.last_seq`,
        [r.databaseId, r.at, id, r.previous],
      );
      return row ? { lastSeq: row.last_seq } : undefined;
    },
    async setLastSeq(id, seq) {
      await sql.run('UPDATE kiosks SET last_seq = $1 WHERE id = $2', [seq, id]);
    },
    async countOnline() {
      const r = await sql.one<{ n: number }>(
        "SELECT count(*) AS n FROM kiosks WHERE status = 'online'",
      );
      return r?.n ?? 0;
    },
  };
}
