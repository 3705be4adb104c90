import type { KioskRecord, KioskRepo } from '../repos/kiosk-repo.js';
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
    async setOffline(id, at, hubProcess) {
      const changed = await sql.run(
        "UPDATE kiosks SET status = 'offline', last_seen_at = $1, hub_process = NULL WHERE id = $2 AND ($3::text IS NULL OR hub_process = $3)",
        [at, id, hubProcess ?? null],
      );
      return changed > 0;
    },
    async setAllOffline() {
      await sql.run(
        "UPDATE kiosks SET status = 'offline', hub_process = NULL WHERE status = 'online'",
      );
    },
    async releaseDeadHolders(at) {
      // pg_stat_activity is read once, at the statement's start: a process that set a kiosk
      // online before then had its cluster connection open already (it opens it first).
      const rows = await sql.rows<{ id: string }>(
        `UPDATE kiosks SET status = 'offline', last_seen_at = $1, hub_process = NULL
         WHERE status = 'online' AND hub_process IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM pg_stat_activity WHERE application_name = $2 || kiosks.hub_process)
         RETURNING id`,
        [at, HUB_APPLICATION_PREFIX],
      );
      return rows.map((r) => r.id);
    },
    async touch(id, at) {
      await sql.run('UPDATE kiosks SET last_seen_at = $1 WHERE id = $2', [at, id]);
    },
    async recordBoot(id, b) {
      // The kiosk's row is locked from here to the commit: two Boots of one kiosk take turns.
      const cur = await sql.one<{ database_id: string | null; last_seq: number }>(
        `UPDATE kiosks SET last_boot_at = $1, software_version = $2, image_version = $3, slot_count = $4, boot_reason = $5, last_seen_at = $1, features = $7::jsonb
         WHERE id = $6 RETURNING database_id, last_seq`,
        [
          b.at,
          b.softwareVersion,
          b.imageVersion,
          b.slotCount,
          b.bootReason,
          id,
          b.features ? JSON.stringify([...new Set(b.features)]) : null,
        ],
      );
      if (!b.databaseId || !cur || cur.database_id === b.databaseId)
        return { databaseReplaced: false };
      if (cur.database_id === null) {
        // The first kioskd that sends one: nothing lost.
        await sql.run('UPDATE kiosks SET database_id = $1 WHERE id = $2', [b.databaseId, id]);
        return { databaseReplaced: false };
      }
      await sql.run(
        'UPDATE kiosks SET database_id = $1, seq_since = $2, last_seq = 0 WHERE id = $3',
        [b.databaseId, b.at, id],
      );
      return { databaseReplaced: true, previous: cur.database_id, lastSeq: cur.last_seq };
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
