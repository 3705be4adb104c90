/**
 * What an `Inventory` must satisfy before it replaces the hub's slot view: at least one slot,
 * each slot once and within the slot count of the kiosk's accepted Boot, and each disk id in
 * one slot only (else one disk could be sold twice). The schema checks each snapshot alone;
 * these rules need the whole list.
 */
import { CallError, type SlotSnapshot } from '../../protocol/index.js';

/** Machine-readable name of the broken rule, sent as `details.problem` in the CALLERROR. */
export type InventoryProblem =
  | 'no-slots'
  | 'duplicate-slot'
  | 'slot-out-of-range'
  | 'duplicate-disk';

function refuse(problem: InventoryProblem, description: string, details: Record<string, unknown>) {
  return new CallError('PropertyConstraintViolation', description, { problem, ...details });
}

/**
 * The CALLERROR (PropertyConstraintViolation, `details.problem` naming the rule) that refuses
 * this Inventory, or undefined when it may be stored. `slotCount` is the accepted Boot's.
 */
export function checkInventory(
  slots: readonly SlotSnapshot[],
  slotCount: number,
): CallError | undefined {
  if (slots.length === 0) {
    return refuse(
      'no-slots',
      `Inventory lists no slots; report every slot 1..${slotCount} (the slot view was kept)`,
      { slotCount },
    );
  }
  const seenSlots = new Set<number>();
  const diskSlot = new Map<string, number>();
  for (const s of slots) {
    if (s.slot > slotCount) {
      return refuse(
        'slot-out-of-range',
        `Inventory lists slot ${s.slot} but Boot reported ${slotCount} slots; send Boot with the right slotCount`,
        { slot: s.slot, slotCount },
      );
    }
    if (seenSlots.has(s.slot)) {
      return refuse('duplicate-slot', `Inventory lists slot ${s.slot} twice`, { slot: s.slot });
    }
    seenSlots.add(s.slot);
    if (s.diskId === undefined) continue;
    const other = diskSlot.get(s.diskId);
    if (other !== undefined) {
      return refuse(
        'duplicate-disk',
        `Inventory puts disk ${s.diskId} in slots ${other} and ${s.slot}; a disk is in one slot`,
        { diskId: s.diskId, slots: [other, s.slot] },
      );
    }
    diskSlot.set(s.diskId, s.slot);
  }
  return undefined;
}
