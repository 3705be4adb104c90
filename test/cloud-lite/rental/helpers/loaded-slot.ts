import type { SlotSnapshot } from '../../../../protocol/index.js';
import { GB } from './rental-hub.js';

/** A slot holding a blank 64 GB disk the kiosk could prepare for a reservation. */
export function loadedSlot(
  slot: number,
  diskId: string,
  extra: Partial<SlotSnapshot> = {},
): SlotSnapshot {
  return { slot, state: 'loaded', diskId, capacityBytes: 64 * GB, writeProtect: false, ...extra };
}
