import type Database from 'better-sqlite3';
import type { KioskRecord, KioskRepo, SweptKiosk } from '../repos/kiosk-repo.js';

interface Row {
  id: string;
  name: string;
  created_at: string;
  secret_hash: Buffer | null;
  revoked_at: string | null;
  status: 'online' | 'offline';
  last_seen_at: string | null;
  connected_at: string | null;
  software_version: string | null;
  image_version: string | null;
  slot_count: number | null;
  last_boot_at: string | null;
  boot_reason: string | null;
  last_seq: number;
  database_id: string | null;
  seq_since: string | null;
  hub_process: string | null;
  features: string | null;
}

function toRecord(r: Row): KioskRecord {
  return {
    id: r.id,
    name: r.name,
    createdAt: r.created_at,
    secretHash: r.secret_hash,
    revokedAt: r.revoked_at,
    status: r.status,
    lastSeenAt: r.last_seen_at,
    connectedAt: r.connected_at,
    softwareVersion: r.software_version,
    imageVersion: r.image_version,
    slotCount: r.slot_count,
    lastBootAt: r.last_boot_at,
    bootReason: r.boot_reason,
    lastSeq: r.last_seq,
    databaseId: r.database_id,
    seqSince: r.seq_since,
    hubProcess: r.hub_process,
    features: r.features === null ? null : (JSON.parse(r.features) as string[]),
  };
}

export function sqliteKioskRepo(db: Database.Database): KioskRepo {
  const s = {
    insert: db.prepare('INSERT INTO kiosks (id, name, created_at) VALUES (?, ?, ?)'),
    get: db.prepare('SELECT * FROM kiosks WHERE id = ?'),
    list: db.prepare('SELECT * FROM kiosks ORDER BY id'),
    listBooted: db.prepare(
      `SELECT id, name, status, last_seen_at AS lastSeenAt, hub_process AS hubProcess FROM kiosks
       WHERE revoked_at IS NULL AND last_boot_at IS NOT NULL ORDER BY id`,
    ),
    setSecret: db.prepare('UPDATE kiosks SET secret_hash = ? WHERE id = ?'),
    revoke: db.prepare(
      "UPDATE kiosks SET revoked_at = ?, secret_hash = NULL, status = 'offline' WHERE id = ?",
    ),
    online: db.prepare(
      "UPDATE kiosks SET status = 'online', connected_at = @at, last_seen_at = @at, hub_process = @hub WHERE id = @id AND NOT (hub_process IS NOT NULL AND @hub IS NOT NULL AND hub_process <> @hub AND connected_at IS NOT NULL AND connected_at > @at)",
    ),
    offline: db.prepare(
      `UPDATE kiosks SET status = 'offline', last_seen_at = @at, hub_process = NULL
       WHERE id = @id AND (@hub IS NULL OR (hub_process = @hub
         AND (@connectedAt IS NULL OR connected_at IS NULL OR connected_at <= @connectedAt)))`,
    ),
    reclaim: db.prepare(
      `UPDATE kiosks SET status = 'online', connected_at = @at, hub_process = @hub
       WHERE id = @id AND revoked_at IS NULL
         AND NOT (hub_process IS NOT NULL AND hub_process <> @hub
           AND connected_at IS NOT NULL AND connected_at > @at)
         AND (status <> 'online' OR hub_process IS NOT @hub OR connected_at IS NOT @at)`,
    ),
    allOffline: db.prepare(
      "UPDATE kiosks SET status = 'offline', hub_process = NULL WHERE status = 'online'",
    ),
    touch: db.prepare(
      'UPDATE kiosks SET last_seen_at = @at WHERE id = @id AND (last_seen_at IS NULL OR last_seen_at < @at)',
    ),
    boot: db.prepare(
      `UPDATE kiosks SET last_boot_at = @at, software_version = @softwareVersion, image_version = @imageVersion,
         slot_count = @slotCount, boot_reason = @bootReason, last_seen_at = @at, features = @features,
         database_id = COALESCE(database_id, @databaseId)
       WHERE id = @id RETURNING database_id`,
    ),
    bootClaim: db.prepare(
      `UPDATE kiosks SET last_boot_at = @at, software_version = @softwareVersion, image_version = @imageVersion,
         slot_count = @slotCount, boot_reason = @bootReason, last_seen_at = @at, features = @features,
         database_id = COALESCE(database_id, @databaseId),
         status = 'online', connected_at = @connectedAt, hub_process = @hub
       WHERE id = @id AND NOT (hub_process IS NOT NULL AND @hub IS NOT NULL AND hub_process <> @hub
         AND connected_at IS NOT NULL AND connected_at > @connectedAt)
       RETURNING database_id`,
    ),
    outstanding: db.prepare(
      "SELECT EXISTS (SELECT 1 FROM commands WHERE kiosk_id = ? AND state IN ('pending', 'sent')) AS n",
    ),
    lastSeq: db.prepare('UPDATE kiosks SET last_seq = ? WHERE id = ?'),
    databaseOf: db.prepare('SELECT last_seq FROM kiosks WHERE id = ? AND database_id = ?'),
    replaceDatabase: db.prepare(
      'UPDATE kiosks SET database_id = @databaseId, seq_since = @at, last_seq = 0 WHERE id = @id',
    ),
    countOnline: db.prepare("SELECT count(*) AS n FROM kiosks WHERE status = 'online'"),
  };
  return {
    async insert(k) {
      s.insert.run(k.id, k.name, k.createdAt);
    },
    async get(id) {
      const row = s.get.get(id) as Row | undefined;
      return row && toRecord(row);
    },
    async list() {
      return (s.list.all() as Row[]).map(toRecord);
    },
    async listBooted() {
      return s.listBooted.all() as SweptKiosk[];
    },
    async setSecretHash(id, hash) {
      s.setSecret.run(hash, id);
    },
    async revoke(id, at) {
      s.revoke.run(at, id);
    },
    async setOnline(id, at, hubProcess = null) {
      return s.online.run({ at, id, hub: hubProcess }).changes > 0;
    },
    async setOffline(id, at, hubProcess, connectedAt) {
      return (
        s.offline.run({ at, id, hub: hubProcess ?? null, connectedAt: connectedAt ?? null })
          .changes > 0
      );
    },
    async reclaim(hubProcess, sessions) {
      const changed: string[] = [];
      for (const x of sessions)
        if (s.reclaim.run({ id: x.id, at: x.connectedAt, hub: hubProcess }).changes > 0)
          changed.push(x.id);
      return changed;
    },
    async releaseDeadHolders() {
      return [];
    },
    async setAllOffline() {
      s.allOffline.run();
    },
    async touchMany(entries) {
      for (const e of entries) s.touch.run(e);
    },
    async recordBoot(id, b) {
      const args = {
        id,
        at: b.at,
        softwareVersion: b.softwareVersion,
        imageVersion: b.imageVersion,
        slotCount: b.slotCount,
        bootReason: b.bootReason,
        features: b.features ? JSON.stringify([...new Set(b.features)]) : null,
        databaseId: b.databaseId ?? null,
      };
      const row = (
        b.claim
          ? s.bootClaim.get({ ...args, connectedAt: b.claim.connectedAt, hub: b.claim.hubProcess })
          : s.boot.get(args)
      ) as { database_id: string | null } | undefined;
      if (!row) return { claimed: false };
      const outstanding = (s.outstanding.get(id) as { n: number }).n === 1;
      if (b.databaseId && row.database_id !== b.databaseId && row.database_id !== null)
        return { claimed: true, outstanding, databaseReplaced: true, previous: row.database_id };
      return { claimed: true, outstanding, databaseReplaced: false };
    },
    async replaceDatabase(id, r) {
      // Read and write with nothing in between (one connection, synchronous calls).
      const row = s.databaseOf.get(id, r.previous) as { last_seq: number } | undefined;
      if (!row) return undefined;
      s.replaceDatabase.run({ id, databaseId: r.databaseId, at: r.at });
      return { lastSeq: row.last_seq };
    },
    async setLastSeq(id, seq) {
      s.lastSeq.run(seq, id);
    },
    async countOnline() {
      return (s.countOnline.get() as { n: number }).n;
    },
  };
}
