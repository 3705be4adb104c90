import type { KioskDb } from '../db/open-db.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { TimeSource } from '../state/clock.js';

/** A disk as the `disks` table knows it. */
export interface DiskRow {
  diskId: string;
  usbSerial?: string | null;
  capacityBytes?: number | null;
  contentId?: string | null;
  contentVersion?: string | null;
  writeProtected?: boolean;
}

/** Inserts or updates a disk row (keyed by diskId), recording the slot it was seen in. */
export function upsertDisk(db: KioskDb, clock: TimeSource, d: DiskRow, slot: number | null): void {
  db.prepare(
    `INSERT INTO disks (disk_id, usb_serial, capacity_bytes, content_id, content_version,
       write_protected, last_seen_slot, updated_at)
     VALUES (@diskId, @usbSerial, @capacityBytes, @contentId, @contentVersion, @wp, @slot, @now)
     ON CONFLICT (disk_id) DO UPDATE SET
       usb_serial = coalesce(excluded.usb_serial, usb_serial),
       capacity_bytes = coalesce(excluded.capacity_bytes, capacity_bytes),
       content_id = coalesce(excluded.content_id, content_id),
       content_version = coalesce(excluded.content_version, content_version),
       write_protected = excluded.write_protected,
       last_seen_slot = excluded.last_seen_slot,
       updated_at = excluded.updated_at`,
  ).run({
    diskId: d.diskId,
    usbSerial: d.usbSerial ?? null,
    capacityBytes: d.capacityBytes ?? null,
    contentId: d.contentId ?? null,
    contentVersion: d.contentVersion ?? null,
    wp: d.writeProtected ? 1 : 0,
    slot,
    now: clock.now().toISOString(),
  });
}

/** The disk id recorded for a USB serial, if any. */
export function diskIdForSerial(db: KioskDb, serial: string): string | undefined {
  const row = db.prepare('SELECT disk_id FROM disks WHERE usb_serial = ?').get(serial) as
    | { disk_id: string }
    | undefined;
  return row?.disk_id;
}

export interface StockOptions {
  slot: number;
  disk: DiskRow;
  /** `ready` (rentable) or `reserved` (held for `reservation`). Default `ready`. */
  state?: 'ready' | 'reserved';
  reservation?: { reservationId: string; commandId: string; holdUntil: string };
}

/**
 * Puts a prepared disk into an EMPTY slot's record: empty -> loaded -> ready (-> reserved),
 * with the disk row, in one transaction. For technicians' tools, tests and simulations;
 * the sensors must agree (a disk really is in the slot), which the caller ensures.
 */
export function stockSlot(
  deps: { db: KioskDb; slots: SlotStore; clock: TimeSource },
  opts: StockOptions,
): void {
  const { db, slots, clock } = deps;
  db.transaction(() => {
    upsertDisk(db, clock, opts.disk, opts.slot);
    const set = { diskId: opts.disk.diskId, writeProtect: opts.disk.writeProtected ?? false };
    slots.transition({ slot: opts.slot, from: 'empty', to: 'loaded', reason: 'stocked', set });
    slots.transition({ slot: opts.slot, from: 'loaded', to: 'ready', reason: 'stocked' });
    const r = opts.reservation;
    if (opts.state === 'reserved' && r) {
      const now = clock.now().toISOString();
      db.prepare(
        `INSERT INTO reservations (reservation_id, command_id, slot, content_id, content_version,
           write_protect, hold_until, state, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'held', ?, ?)`,
      ).run(
        r.reservationId,
        r.commandId,
        opts.slot,
        opts.disk.contentId ?? 'unknown',
        opts.disk.contentVersion ?? 'unknown',
        set.writeProtect ? 1 : 0,
        r.holdUntil,
        now,
        now,
      );
      slots.transition({
        slot: opts.slot,
        from: 'ready',
        to: 'reserved',
        reason: `held for ${r.reservationId}`,
        set: { reservationId: r.reservationId },
      });
    }
  })();
}
