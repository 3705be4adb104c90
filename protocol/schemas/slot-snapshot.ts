import { type Static, Type } from '@sinclair/typebox';
import {
  Count,
  Fault,
  IsoTimestamp,
  Serial,
  Slot,
  SlotState,
  StrictObject,
  Token,
  Version,
} from './common.js';

/**
 * One slot as the kiosk sees it: state, disk (serial, capacity, content), reservation hold and
 * fault. Sent for every slot in `Inventory`, and for one slot inside `SlotStateChanged`.
 * `version` is the kiosk's per-slot change counter: a receiver keeps the snapshot with the
 * highest version and ignores older ones (events drained after a newer Inventory).
 */
export const SlotSnapshot = StrictObject({
  slot: Slot,
  state: SlotState,
  diskId: Type.Optional(Token),
  diskSerial: Type.Optional(Serial),
  capacityBytes: Type.Optional(Count),
  contentId: Type.Optional(Token),
  contentVersion: Type.Optional(Version),
  writeProtect: Type.Boolean(),
  reservationId: Type.Optional(Token),
  holdUntil: Type.Optional(IsoTimestamp),
  fault: Type.Optional(Fault),
  version: Type.Optional(Count),
});
export type SlotSnapshot = Static<typeof SlotSnapshot>;
