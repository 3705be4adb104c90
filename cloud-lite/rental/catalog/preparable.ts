/**
 * The stock rules of a kiosk, as the hub's slot view sees it: which slots sell now (walk-up)
 * and which slot a reservation may claim, so that a reservation never destroys sellable stock.
 *
 * A reservation of type T claims, in this order:
 *  1. `hold`: a `ready` disk that already holds T's content (and version): nothing is copied,
 *     the kiosk only marks it reserved;
 *  2. `prepare`: a `loaded` disk (blank or wipeable) of at least T's capacity (or a `ready`
 *     one whose content the hub does not know: it sells nothing);
 *  3. `reformat`: a `ready` disk of other content, only when the operator allows it
 *     (`rental.reservationsMayReformatReady`, default off) and while every disk type that
 *     disk sells keeps at least `rental.keepReadyPerType` other ready disks.
 * Smallest capacity first within each kind. Slots promised to an order in flight or claimed
 * by a reservation that is still preparing or ready are taken already (`claimedSlots`): the
 * hub decides the slot in the same transaction that creates the order or reservation, so two
 * concurrent requests never get the same disk.
 */
import type { DiskTypeRecord, SlotRecord, StockSlot, Tx } from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import { ACTIVE_ORDER_STATES } from '../orders/order-view.js';

/** The fields of a slot snapshot the catalog reads. */
export interface SnapshotFields {
  contentId?: string;
  contentVersion?: string;
  capacityBytes?: number;
  reservationId?: string;
  diskId?: string;
}

/** The operator's stock policy (rental config keys). */
export type StockPolicy = Pick<RentalConfig, 'reservationsMayReformatReady' | 'keepReadyPerType'>;

export type ClaimKind = 'hold' | 'prepare' | 'reformat';

export interface ReservationCandidate {
  slot: SlotRecord;
  kind: ClaimKind;
}

const snapOf = (s: SlotRecord) => s.snapshot as SnapshotFields;
const capacityOf = (s: SlotRecord) => snapOf(s).capacityBytes ?? 0;

/**
 * Slots of a kiosk already taken: promised to an order that is not finished yet, or claimed
 * by a reservation still preparing or ready (the hub names its slot when creating it).
 */
export async function claimedSlots(tx: Tx, kioskId: string): Promise<Set<number>> {
  return (await claimedSlotsByKiosk(tx)).get(kioskId) ?? new Set();
}

/** The slots taken (see claimedSlots) at every kiosk, by kiosk id: one read for the fleet. */
export async function claimedSlotsByKiosk(tx: Tx): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  const add = (kioskId: string, slot: number | null) => {
    if (slot === null) return;
    const set = out.get(kioskId) ?? new Set<number>();
    out.set(kioskId, set.add(slot));
  };
  for (const o of await tx.orders.listByStates(ACTIVE_ORDER_STATES, 10_000)) add(o.kioskId, o.slot);
  for (const r of await tx.reservations.listByStates(['preparing', 'ready'], 10_000))
    add(r.kioskId, r.slot);
  return out;
}

/** Slots in `states` holding a known disk of at least `capacity`, free, not out on rent. */
async function freeSlots(
  tx: Tx,
  kioskId: string,
  states: readonly string[],
  capacity: number,
  claimed: Set<number>,
): Promise<SlotRecord[]> {
  const out: SlotRecord[] = [];
  for (const s of await tx.slots.list(kioskId))
    if (await isFree(tx, s, states, capacity, claimed)) out.push(s);
  return out;
}

/** Whether slot `s` is in `states` with a known disk of at least `capacity`, free, not out on rent. */
async function isFree(
  tx: Tx,
  s: SlotRecord,
  states: readonly string[],
  capacity: number,
  claimed: ReadonlySet<number>,
): Promise<boolean> {
  return states.includes(s.state) && diskFree(tx, s.slot, snapOf(s), capacity, claimed);
}

/** The snapshot fields diskFree reads (null: absent, as StockSlot has them). */
type DiskFields = {
  [K in 'diskId' | 'capacityBytes' | 'reservationId']?: SnapshotFields[K] | null;
};

/**
 * Whether the disk in `slot` (its snapshot's `disk` fields) is free: the slot neither claimed
 * nor reserved, the disk known, of at least `capacity`, not out on rent.
 */
async function diskFree(
  tx: Tx,
  slot: number,
  disk: DiskFields,
  capacity: number,
  claimed: ReadonlySet<number> | undefined,
): Promise<boolean> {
  if (claimed?.has(slot) || disk.reservationId || !disk.diskId) return false;
  if ((disk.capacityBytes ?? 0) < capacity) return false;
  return !(await tx.rentals.findUnreturnedByDisk(disk.diskId));
}

/** The claimed slots of the whole fleet, read once (see sellsAnywhere). */
export interface FleetStock {
  claimed: Map<string, Set<number>>;
}

/** Reads the fleet's claims: two statements whatever the fleet's size. */
export async function fleetStock(tx: Tx): Promise<FleetStock> {
  return { claimed: await claimedSlotsByKiosk(tx) };
}

/**
 * How many ready slots sellsAnywhere reads at a time: a disk type in stock costs one page
 * (the fleet's every ready slot, whole snapshots parsed, was ~20 MB of garbage per alerts
 * sweep at 10,000 kiosks of 4 ready disks).
 */
export const STOCK_PAGE = 100;

/**
 * Whether any kiosk of `kioskIds` can dispense `type` now, by sellableSlots' rule: reads the
 * ready slots holding its content a page at a time (only the fields the rule reads) and stops
 * at the first that sells, so a disk type in stock costs its content row, a page and one
 * rental look-up, not a read per kiosk.
 */
export async function sellsAnywhere(
  tx: Tx,
  type: DiskTypeRecord,
  kioskIds: ReadonlySet<string>,
  stock: FleetStock,
): Promise<boolean> {
  const content = await tx.content.get(type.contentId);
  if (!content) return false;
  let after: StockSlot | undefined;
  for (;;) {
    const page = await tx.slots.listReadyStock(type.contentId, STOCK_PAGE, after);
    for (const s of page) {
      if (!kioskIds.has(s.kioskId) || !holdsVersion(s.contentVersion, content.version)) continue;
      if (await diskFree(tx, s.slot, s, type.capacityBytes, stock.claimed.get(s.kioskId)))
        return true;
    }
    if (page.length < STOCK_PAGE) return false;
    after = page[page.length - 1];
  }
}

/** Whether a ready slot holds `type`'s content at the catalog's current version. */
function holdsContentOf(s: SlotRecord, type: DiskTypeRecord, version: string): boolean {
  const snap = snapOf(s);
  return snap.contentId === type.contentId && holdsVersion(snap.contentVersion, version);
}

/** Whether a disk holding `held` (absent: the kiosk did not say) counts as content `version`. */
function holdsVersion(held: string | null | undefined, version: string): boolean {
  return held === undefined || held === null || held === version;
}

/**
 * Slots of `kioskId` that can dispense `type` now: `ready` in the hub's slot view (last
 * Inventory plus the SlotStateChanged events since), with the type's content (and version),
 * enough capacity, not reserved, not claimed, and not holding a disk that is out on rent.
 */
export async function sellableSlots(
  tx: Tx,
  kioskId: string,
  type: DiskTypeRecord,
  claimed?: Set<number>,
): Promise<SlotRecord[]> {
  const content = await tx.content.get(type.contentId);
  if (!content) return [];
  const taken = claimed ?? (await claimedSlots(tx, kioskId));
  return (await freeSlots(tx, kioskId, ['ready'], type.capacityBytes, taken))
    .filter((s) => holdsContentOf(s, type, content.version))
    .sort((a, b) => capacityOf(a) - capacityOf(b));
}

/**
 * The slots a reservation of `type` at `kioskId` may claim, best first (see the file
 * comment). `offered` are the disk types the kiosk sells (for the stock rule of `reformat`).
 * Reformat candidates are admitted one after another, each only while every type the disk
 * sells keeps `keepReadyPerType` other ready disks after the ones admitted before it, so the
 * list's length is how many reservations the kiosk can take at once.
 */
export async function reservationCandidates(
  tx: Tx,
  kioskId: string,
  type: DiskTypeRecord,
  offered: readonly DiskTypeRecord[],
  policy: StockPolicy,
): Promise<ReservationCandidate[]> {
  const claimed = await claimedSlots(tx, kioskId);
  const bySize = (a: SlotRecord, b: SlotRecord) => capacityOf(a) - capacityOf(b);
  const hold = await sellableSlots(tx, kioskId, type, claimed);
  const out: ReservationCandidate[] = hold.map((slot) => ({ slot, kind: 'hold' }));
  const held = new Set(hold.map((s) => s.slot));
  const free = await freeSlots(tx, kioskId, ['loaded', 'ready'], type.capacityBytes, claimed);
  // Loaded disks, and ready ones of unknown content (they sell nothing).
  for (const slot of free.filter((s) => s.state === 'loaded' || !snapOf(s).contentId).sort(bySize))
    out.push({ slot, kind: 'prepare' });
  if (!policy.reservationsMayReformatReady) return out;
  const others = free
    .filter((s) => s.state === 'ready' && snapOf(s).contentId && !held.has(s.slot))
    .sort(bySize);
  if (others.length === 0) return out;
  // Ready stock per type the kiosk sells: which slots sell each type now.
  const stock = new Map<string, Set<number>>();
  for (const t of offered)
    stock.set(t.id, new Set((await sellableSlots(tx, kioskId, t, claimed)).map((s) => s.slot)));
  for (const slot of others) {
    const sells = [...stock.values()].filter((set) => set.has(slot.slot));
    if (sells.some((set) => set.size - 1 < policy.keepReadyPerType)) continue;
    for (const set of sells) set.delete(slot.slot);
    out.push({ slot, kind: 'reformat' });
  }
  return out;
}

/** Reservations at `kioskId` still preparing without a slot (made before the hub named slots). */
export async function unplacedReservations(tx: Tx, kioskId: string): Promise<number> {
  return (await tx.reservations.listByStates(['preparing'], 10_000)).filter(
    (r) => r.kioskId === kioskId && r.slot === null,
  ).length;
}

/**
 * How many more reservations of `type` the kiosk can take: its reservation candidates, less
 * the unplaced reservations there (each will take one disk).
 */
export async function reservableCount(
  tx: Tx,
  kioskId: string,
  type: DiskTypeRecord,
  offered: readonly DiskTypeRecord[],
  policy: StockPolicy,
): Promise<number> {
  const free = (await reservationCandidates(tx, kioskId, type, offered, policy)).length;
  if (free === 0) return 0;
  return Math.max(0, free - (await unplacedReservations(tx, kioskId)));
}
