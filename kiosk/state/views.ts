/**
 * Read-only views of the kiosk database shared by the daemon's maintenance server and
 * kioskctl's offline mode (daemon down: the same views from the SQLite file, read-only).
 */
import { statfsSync } from 'node:fs';
import type { KioskDb } from '../db/open-db.js';
import type { FaultView, SlotView } from '../maintenance-wire.js';

interface SlotRow {
  slot: number;
  state: string;
  disk_id: string | null;
  usb_serial: string | null;
  capacity_bytes: number | null;
  content_id: string | null;
  content_version: string | null;
  write_protect: number;
  reservation_id: string | null;
  fault_code: string | null;
  fault_message: string | null;
  disabled_from: string | null;
  updated_at: string;
}

/** Every slot with its disk and last event, by slot number. */
export function slotViews(db: KioskDb): SlotView[] {
  const rows = db
    .prepare(
      `SELECT s.slot, s.state, s.disk_id, d.usb_serial, d.capacity_bytes, d.content_id,
              d.content_version, s.write_protect, s.reservation_id, s.fault_code,
              s.fault_message, s.disabled_from, s.updated_at
       FROM slots s LEFT JOIN disks d ON d.disk_id = s.disk_id ORDER BY s.slot`,
    )
    .all() as SlotRow[];
  const last = new Map<number, { type: string; at: string }>();
  const evs = db
    .prepare(
      `SELECT json_extract(data, '$.slot') AS slot, type, at, max(seq) AS seq
       FROM outbox WHERE json_extract(data, '$.slot') IS NOT NULL GROUP BY 1`,
    )
    .all() as Array<{ slot: number; type: string; at: string }>;
  for (const e of evs) last.set(e.slot, { type: e.type, at: e.at });
  return rows.map((r) => ({
    slot: r.slot,
    state: r.state,
    diskId: r.disk_id,
    usbSerial: r.usb_serial,
    capacityBytes: r.capacity_bytes,
    content: r.content_id ? `${r.content_id}@${r.content_version ?? '?'}` : null,
    writeProtect: r.write_protect === 1,
    reservationId: r.reservation_id,
    fault: r.fault_code ? { code: r.fault_code, message: r.fault_message ?? '' } : null,
    disabledFrom: r.disabled_from,
    updatedAt: r.updated_at,
    lastEvent: last.get(r.slot) ?? { type: `state ${r.state}`, at: r.updated_at },
  }));
}

export interface QueueDepths {
  /** Events waiting for the hub. */
  outbox: number;
  /** Hub commands received but not finished. */
  inbox: number;
}

export function queueDepths(db: KioskDb): QueueDepths {
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    outbox: n('SELECT count(*) AS n FROM outbox'),
    inbox: n("SELECT count(*) AS n FROM inbox WHERE state IN ('received', 'executing')"),
  };
}

export interface IdentityView {
  kioskId: string | null;
  clockOffsetMs: number;
  lastSync: string | null;
}

export function identityView(db: KioskDb): IdentityView {
  const row = db
    .prepare('SELECT kiosk_id, clock_offset_ms, clock_synced_at FROM identity WHERE id = 1')
    .get() as
    | { kiosk_id: string; clock_offset_ms: number; clock_synced_at: string | null }
    | undefined;
  return {
    kioskId: row?.kiosk_id ?? null,
    clockOffsetMs: row?.clock_offset_ms ?? 0,
    lastSync: row?.clock_synced_at ?? null,
  };
}

export interface DiskSpace {
  path: string;
  totalBytes: number;
  freeBytes: number;
  usedPercent: number;
}

/** Free space of the file system holding `dir`; null when it cannot be read. */
export function diskSpace(dir: string): DiskSpace | null {
  try {
    const s = statfsSync(dir);
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    return {
      path: dir,
      totalBytes: total,
      freeBytes: free,
      usedPercent: total > 0 ? Math.round(((total - free) / total) * 1000) / 10 : 0,
    };
  } catch {
    return null;
  }
}

const FAULT_HINTS: Record<string, string> = {
  EJAM: 'kioskctl slot retract N (self-tests the motor first)',
  EMOTOR: 'kioskctl test motors N, then kioskctl slot retract N',
  ERELAY: 'repair the relay, then kioskctl test relays N',
  EIO: 'kioskctl slot disable N, replace the disk, kioskctl slot enable N',
};

/** What a technician does about a fault of `code` (in `slot`): the kioskctl commands. */
export function hintFor(code: string, slot?: number): string {
  const h = FAULT_HINTS[code] ?? 'kioskctl slot disable N, fix it, kioskctl slot enable N';
  return slot === undefined ? h : h.replaceAll(' N', ` ${slot}`);
}

/** The faults recorded in the database (kioskctl offline; the daemon adds live ones). */
export function recordedFaults(slots: SlotView[]): FaultView[] {
  return slots
    .filter((s) => s.fault)
    .map((s) => ({ slot: s.slot, ...s.fault!, hint: hintFor(s.fault!.code, s.slot) }));
}
