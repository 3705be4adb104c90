import type { InventoryRequest, SlotSnapshot } from '../../protocol/index.js';
import type { KioskDb } from '../db/open-db.js';
import type { TimeSource } from '../state/clock.js';

interface Row {
  slot: number;
  state: SlotSnapshot['state'];
  disk_id: string | null;
  write_protect: number;
  reservation_id: string | null;
  fault_code: string | null;
  fault_message: string | null;
  version: number;
  usb_serial: string | null;
  capacity_bytes: number | null;
  content_id: string | null;
  content_version: string | null;
  hold_until: string | null;
}

/** One query for both the full inventory and a single slot (`WHERE s.slot = ?`). */
const SELECT = `SELECT s.slot, s.state, s.disk_id, s.write_protect, s.reservation_id, s.fault_code,
       s.fault_message, s.version, d.usb_serial, d.capacity_bytes, d.content_id,
       d.content_version, r.hold_until
  FROM slots s
  LEFT JOIN disks d ON d.disk_id = s.disk_id
  LEFT JOIN reservations r ON r.reservation_id = s.reservation_id`;

/**
 * The full snapshot the hub gets in an `Inventory` call: every slot with its disk
 * (serial, capacity, content), reservation hold and per-slot `version`, from the database.
 */
export function inventorySnapshot(db: KioskDb, clock: TimeSource): InventoryRequest {
  const rows = db.prepare(`${SELECT} ORDER BY s.slot`).all() as Row[];
  return { takenAt: clock.now().toISOString(), slots: rows.map(toSnapshot) };
}

/**
 * One slot as `inventorySnapshot` reports it (undefined for a slot that does not exist).
 * Called inside the transaction that changed the slot, so the snapshot and its `version`
 * are exactly what that transaction commits.
 */
export function slotSnapshot(db: KioskDb, slot: number): SlotSnapshot | undefined {
  const row = db.prepare(`${SELECT} WHERE s.slot = ?`).get(slot) as Row | undefined;
  return row ? toSnapshot(row) : undefined;
}

function toSnapshot(r: Row): SlotSnapshot {
  const snap: SlotSnapshot = {
    slot: r.slot,
    state: r.state,
    writeProtect: r.write_protect === 1,
    version: r.version,
  };
  if (r.disk_id) snap.diskId = r.disk_id;
  if (r.usb_serial) snap.diskSerial = r.usb_serial;
  if (r.capacity_bytes !== null) snap.capacityBytes = r.capacity_bytes;
  if (r.content_id) snap.contentId = r.content_id;
  if (r.content_version) snap.contentVersion = r.content_version;
  if (r.reservation_id) snap.reservationId = r.reservation_id;
  if (r.hold_until) snap.holdUntil = r.hold_until;
  if (r.fault_code) snap.fault = { code: r.fault_code, message: r.fault_message ?? '' };
  return snap;
}
