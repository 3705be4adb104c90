import { SLOT_STATES } from '../../protocol/index.js';

/** Every state a slot can be in: protocol's SlotState, one list for both sides. */
export { SLOT_STATES };

export type SlotStateName = (typeof SLOT_STATES)[number];

/**
 * The legal transitions, from -> allowed targets, and why each exists.
 * `disabled` is reachable from every other state (a technician may take any slot out of
 * service); leaving `disabled` goes to whatever the sensors prove: empty, loaded (a disk
 * is there but must be checked again), ready (its prepared disk checked out) or fault. No
 * state transitions to itself.
 */
export const TRANSITIONS: Readonly<Record<SlotStateName, readonly SlotStateName[]>> = {
  // empty: technician loads a disk | a renter returns one | sensor says otherwise
  empty: ['loaded', 'returned', 'fault', 'disabled'],
  // loaded: start preparing (clone/check/wipe) | check proved its content | unloaded
  loaded: ['preparing', 'ready', 'empty', 'fault', 'disabled'],
  // preparing: done (rentable) | done for a reservation (held) | failed cleanly | disk error
  preparing: ['ready', 'reserved', 'loaded', 'fault', 'disabled'],
  // ready: held for a reservation | dispense | re-prepare (other content, wipe) | unloaded
  ready: ['reserved', 'dispensing', 'preparing', 'empty', 'fault', 'disabled'],
  // reserved: picked up | cancelled or expired (back to stock) | disk error
  reserved: ['dispensing', 'ready', 'fault', 'disabled'],
  // dispensing: taken | not taken, retracted (stock or still held) | jam / sensor disagreement
  dispensing: ['empty', 'ready', 'reserved', 'fault', 'disabled'],
  // returned: identified blank/unknown | verified content | wipe or re-prepare | bad disk | removed
  returned: ['loaded', 'ready', 'preparing', 'empty', 'fault', 'disabled'],
  // fault: technician cleared it, slot holds a disk / nothing / a returned disk
  fault: ['loaded', 'empty', 'returned', 'disabled'],
  // disabled: enabled again, into what the sensors prove (ready: its disk checked out)
  disabled: ['empty', 'loaded', 'ready', 'fault'],
};

/** Whether `from -> to` is in the table. */
export function isLegalTransition(from: SlotStateName, to: SlotStateName): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isSlotState(s: unknown): s is SlotStateName {
  return typeof s === 'string' && (SLOT_STATES as readonly string[]).includes(s);
}
