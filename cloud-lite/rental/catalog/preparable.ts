/**
 * What a kiosk could prepare for a reservation, as the hub's slot view sees it. Mirrors the
 * kiosk's choice in PrepareDisk (a disk in `loaded` or `ready` of at least the type's
 * capacity) and leaves out slots that are reserved, promised to an order in flight, or hold a
 * disk that is out on rent.
 */
import type { Repos, SlotRecord } from '../../store/types.js';
import type { DiskTypeRecord } from '../store/types.js';

const ACTIVE_ORDER_STATES = ['created', 'authorised', 'dispensing', 'jam_hold'] as const;
const PREPARABLE_STATES: readonly string[] = ['loaded', 'ready'];

/** The fields of a slot snapshot the catalog reads. */
export interface SnapshotFields {
  contentId?: string;
  contentVersion?: string;
  capacityBytes?: number;
  reservationId?: string;
  diskId?: string;
}

/** Slots of a kiosk promised to an order that is not finished yet. */
export async function slotsInOrders(tx: Repos, kioskId: string): Promise<Set<number>> {
  return new Set(
    (await tx.rental.orders.listByStates(ACTIVE_ORDER_STATES, 10_000))
      .filter((o) => o.kioskId === kioskId && o.slot !== null)
      .map((o) => o.slot as number),
  );
}

/** Slots with a disk the kiosk could copy `type`'s content onto now. */
export async function preparableSlots(
  tx: Repos,
  kioskId: string,
  type: DiskTypeRecord,
): Promise<SlotRecord[]> {
  const busy = await slotsInOrders(tx, kioskId);
  const out: SlotRecord[] = [];
  for (const s of await tx.slots.list(kioskId)) {
    const snap = s.snapshot as SnapshotFields;
    if (!PREPARABLE_STATES.includes(s.state) || busy.has(s.slot)) continue;
    if (snap.reservationId || !snap.diskId) continue;
    if ((snap.capacityBytes ?? 0) < type.capacityBytes) continue;
    if (await tx.rental.rentals.findUnreturnedByDisk(snap.diskId)) continue;
    out.push(s);
  }
  return out;
}

/**
 * How many more reservations of `type` the kiosk can take: its preparable slots, less the
 * reservations there still preparing that have not yet claimed a slot. A reservation claims
 * one by moving it to `preparing`, so those slots are counted against preparing
 * reservations (of any type: each takes one disk) instead of twice.
 */
export async function reservableCount(
  tx: Repos,
  kioskId: string,
  type: DiskTypeRecord,
): Promise<number> {
  const free = (await preparableSlots(tx, kioskId, type)).length;
  if (free === 0) return 0;
  const preparing = (await tx.rental.reservations.listByStates(['preparing'], 10_000)).filter(
    (r) => r.kioskId === kioskId,
  ).length;
  const claimed = (await tx.slots.list(kioskId)).filter((s) => s.state === 'preparing').length;
  return Math.max(0, free - Math.max(0, preparing - claimed));
}
