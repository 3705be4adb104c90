/**
 * Reads and writes of the spine's `disks` table and the choice of a disk for a job.
 * Synchronous; meant to run inside SlotStore transitions' `also`.
 */
import { randomUUID } from 'node:crypto';
import type { KioskDb } from '../db/open-db.js';
import type { SlotStateName } from '../slots/transitions.js';

/** Where a slot's disk is now and how big it is (kioskd wires hal/drives' diskForSlot). */
export type SlotDiskLocator = (
  slot: number,
) => Promise<{ device: string; capacityBytes: number; serial?: string | null } | undefined>;

export interface SlotDiskRow {
  slot: number;
  state: SlotStateName;
  diskId: string | null;
  capacityBytes: number | null;
  contentId: string | null;
  contentVersion: string | null;
  writeProtected: boolean;
  health: string | null;
}

export function slotDisks(db: KioskDb, states: readonly SlotStateName[]): SlotDiskRow[] {
  const rows = db
    .prepare(
      `SELECT s.slot, s.state, s.disk_id, d.capacity_bytes, d.content_id, d.content_version,
              coalesce(d.write_protected, s.write_protect) AS wp, d.health
       FROM slots s LEFT JOIN disks d ON d.disk_id = s.disk_id
       WHERE s.state IN (${states.map(() => '?').join(',')}) ORDER BY s.slot`,
    )
    .all(...states) as {
    slot: number;
    state: SlotStateName;
    disk_id: string | null;
    capacity_bytes: number | null;
    content_id: string | null;
    content_version: string | null;
    wp: number;
    health: string | null;
  }[];
  return rows.map((r) => ({
    slot: r.slot,
    state: r.state,
    diskId: r.disk_id,
    capacityBytes: r.capacity_bytes,
    contentId: r.content_id,
    contentVersion: r.content_version,
    writeProtected: r.wp === 1,
    health: r.health,
  }));
}

/** The disk id already recorded for a USB serial, if any. */
export function knownDiskId(db: KioskDb, serial: string | null | undefined): string | undefined {
  if (!serial) return undefined;
  const row = db.prepare('SELECT disk_id FROM disks WHERE usb_serial = ?').get(serial) as
    | { disk_id: string }
    | undefined;
  return row?.disk_id;
}

/** A disk id for a disk the spine has none for: from its serial, else random. */
export function diskIdFor(serial: string | null | undefined): string {
  const s = (serial ?? '').replace(/[^A-Za-z0-9._:-]/g, '').slice(0, 100);
  return s ? `disk-${s}` : `disk-${randomUUID()}`;
}

export interface DiskUpdate {
  diskId: string;
  slot: number;
  capacityBytes?: number | undefined;
  serial?: string | null | undefined;
  /** null clears the content (the disk is being rewritten or was wiped). */
  content?: { contentId: string; version: string } | null;
  writeProtected?: boolean;
  health?: 'unknown' | 'good' | 'degraded' | 'bad';
  now: string;
}

export function upsertDisk(db: KioskDb, u: DiskUpdate): void {
  db.prepare(
    `INSERT INTO disks (disk_id, usb_serial, capacity_bytes, last_seen_slot, updated_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (disk_id) DO UPDATE SET last_seen_slot = excluded.last_seen_slot,
       usb_serial = coalesce(usb_serial, excluded.usb_serial),
       capacity_bytes = coalesce(excluded.capacity_bytes, capacity_bytes), updated_at = excluded.updated_at`,
  ).run(u.diskId, u.serial || null, u.capacityBytes ?? null, u.slot, u.now);
  if (u.content !== undefined) {
    db.prepare('UPDATE disks SET content_id = ?, content_version = ? WHERE disk_id = ?').run(
      u.content?.contentId ?? null,
      u.content?.version ?? null,
      u.diskId,
    );
  }
  if (u.writeProtected !== undefined) {
    db.prepare('UPDATE disks SET write_protected = ? WHERE disk_id = ?').run(
      u.writeProtected ? 1 : 0,
      u.diskId,
    );
  }
  if (u.health !== undefined)
    db.prepare('UPDATE disks SET health = ? WHERE disk_id = ?').run(u.health, u.diskId);
}

/** Protocol text fields hold at most 1024 characters. */
export function clip(s: string, n = 1000): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
