import { type Static, Type } from '@sinclair/typebox';
import {
  Code,
  Count,
  IsoTimestamp,
  Serial,
  Slot,
  SlotState,
  StrictObject,
  StringEnum,
  Text,
  Token,
  Uuid,
  Version,
} from './common.js';
import { SlotSnapshot } from './slot-snapshot.js';

/** Data of each event type the kiosk reports through the `Event` action. */
export const DispenseCompletedData = StrictObject({
  commandId: Uuid,
  orderId: Type.Optional(Token),
  reservationId: Type.Optional(Token),
  slot: Slot,
  diskId: Token,
  outcome: StringEnum(['taken', 'not_taken', 'jammed', 'failed'] as const),
  reason: Type.Optional(Text),
});

export const PREPARE_STEPS = [
  'fetching',
  'formatting',
  'copying',
  'flushing',
  'verifying',
  'configuring',
] as const;

export const PrepareProgressData = StrictObject({
  commandId: Uuid,
  reservationId: Token,
  slot: Slot,
  step: StringEnum(PREPARE_STEPS),
  bytesDone: Count,
  bytesTotal: Count,
  filesDone: Count,
  filesTotal: Count,
  /** Bytes per second, averaged by the sender. */
  rateBps: Type.Number({ minimum: 0, maximum: 1e12 }),
  /** Seconds left, estimated by the sender. */
  etaSeconds: Type.Number({ minimum: 0, maximum: 1e9 }),
});

export const PrepareCompletedData = StrictObject({
  commandId: Uuid,
  reservationId: Token,
  slot: Slot,
  diskId: Token,
  contentId: Token,
  contentVersion: Version,
  holdUntil: IsoTimestamp,
});

export const PrepareFailedData = StrictObject({
  commandId: Uuid,
  reservationId: Token,
  slot: Type.Optional(Slot),
  code: Code,
  reason: Text,
});

export const DiskReturnedData = StrictObject({
  slot: Slot,
  diskId: Type.Optional(Token),
  usbSerial: Type.Optional(Serial),
  identityValid: Type.Boolean(),
  writeProtected: Type.Boolean(),
});

export const DiskCheckedData = StrictObject({
  slot: Slot,
  diskId: Token,
  result: StringEnum(['ready', 'loaded', 'fault'] as const),
  reason: Type.Optional(Text),
});

export const WipeMode = StringEnum(['quick', 'full'] as const);

export const WipeCompletedData = StrictObject({
  commandId: Type.Optional(Uuid),
  slot: Slot,
  diskId: Token,
  mode: WipeMode,
});

export const WipeFailedData = StrictObject({
  commandId: Type.Optional(Uuid),
  slot: Slot,
  diskId: Type.Optional(Token),
  code: Code,
  reason: Text,
});

export const SlotStateChangedData = StrictObject({
  slot: Slot,
  from: SlotState,
  to: SlotState,
  reason: Type.Optional(Text),
  /**
   * The slot right after the change, taken in the same transaction. The hub applies it when
   * its `version` is newer than what it holds. Without it a receiver may only take
   * availability away (a `ready` slot may hold other content under the same disk id).
   */
  snapshot: Type.Optional(SlotSnapshot),
});

/**
 * A disk left a slot outside a dispense (pulled from a jammed or faulted slot, or taken by
 * hand): the kiosk no longer holds it. `state` is the slot's state when the sensor saw it go.
 */
export const DiskRemovedData = StrictObject({
  slot: Slot,
  diskId: Type.Optional(Token),
  state: SlotState,
  reason: Text,
  /** The service door was open when the disk went (a technician's removal); absent = unknown. */
  serviceDoorOpen: Type.Optional(Type.Boolean()),
});

export const FaultRaisedData = StrictObject({
  slot: Type.Optional(Slot),
  code: Code,
  message: Text,
});

export const FaultClearedData = StrictObject({
  slot: Type.Optional(Slot),
  code: Code,
});

export const CommandRejectedData = StrictObject({
  commandId: Type.Optional(Uuid),
  action: Type.String({ minLength: 1, maxLength: 64 }),
  code: Code,
  reason: Text,
});

export const ReservationCancelledData = StrictObject({
  commandId: Type.Optional(Uuid),
  reservationId: Token,
  slot: Type.Optional(Slot),
  reason: Text,
});

export const ReservationExpiredData = StrictObject({
  reservationId: Token,
  slot: Slot,
});

/**
 * A pickup code typed on the keypad matched an armed code: the slot is `dispensing` (same
 * transaction) and a DispenseCompleted with the same commandId follows. Sent at once when
 * the hub is connected, else when the link returns.
 */
export const PickupCodeAcceptedData = StrictObject({
  /** Made by the kiosk for this dispense; its DispenseCompleted carries it too. */
  commandId: Uuid,
  /** The ArmPickupCode that armed the code. */
  armCommandId: Uuid,
  reservationId: Token,
  slot: Slot,
  diskId: Token,
});

export const PICKUP_CODE_REFUSALS = [
  'wrong',
  'locked',
  'expired',
  'used',
  'cancelled',
  'slot_unavailable',
] as const;

/**
 * A pickup code typed on the keypad was refused. `wrong`: no armed code matches (counts toward
 * the lockout); `locked`: typed during a lockout (not checked); `expired`: the code of a hold
 * that ended; `used`: a code that already dispensed; `cancelled`: the code of a cancelled
 * reservation; `slot_unavailable`: the reserved slot is not `reserved` now (a technician
 * holds it, a fault), or the slot board is not connected (the code is not spent).
 */
export const PickupCodeRefusedData = StrictObject({
  reason: StringEnum(PICKUP_CODE_REFUSALS),
  /** Wrong codes since the last lockout or right code. */
  failures: Type.Integer({ minimum: 0, maximum: 1000 }),
  /** Set while the keypad is locked out. */
  lockedUntil: Type.Optional(IsoTimestamp),
  /** For expired, used, cancelled and slot_unavailable: the reservation whose code it was. */
  reservationId: Type.Optional(Token),
});

export const TechnicianActionData = StrictObject({
  /** Who acted (technician name or badge id). */
  actor: Type.String({ minLength: 1, maxLength: 64 }),
  /** What was done, e.g. 'slot.disable'. */
  action: Type.String({ minLength: 1, maxLength: 64 }),
  /** The action's arguments (free-form, at most 32 keys). */
  args: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 32 }),
});

/** The steps of a software update, in order (`failed` and `rolled_back` end it early). */
export const UPDATE_STATES = [
  'downloading',
  'waiting',
  'installing',
  'rebooting',
  'trial',
  'committed',
  'rolled_back',
  'failed',
] as const;

/**
 * A software update's progress (InstallUpdate, or a technician's install from a USB stick).
 * `version` is the version being installed; `fromVersion` the one the kiosk ran when the
 * update began, which is the one it runs again after `rolled_back`.
 */
export const UpdateStatusData = StrictObject({
  /** The InstallUpdate's; absent for a technician's install (kioskctl update install). */
  commandId: Type.Optional(Uuid),
  version: Version,
  fromVersion: Version,
  state: StringEnum(UPDATE_STATES),
  /** Of the download (`downloading`) or of RAUC's install (`installing`). */
  percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  bytesDone: Type.Optional(Count),
  bytesTotal: Type.Optional(Count),
  /** `waiting`: what holds the update lock (e.g. `dispense slot 3`). */
  waitingFor: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 }),
  ),
  /** `failed` and `rolled_back`: a machine-readable reason, e.g. `EHASH`, `ENOSPC`, `ETRIALFAILED`. */
  code: Type.Optional(Code),
  reason: Type.Optional(Text),
});

/** An UploadDiagnostics the kiosk could not complete (the upload failed after its retries, or the result was too big). */
export const DiagnosticsFailedData = StrictObject({
  commandId: Uuid,
  requestId: Token,
  /** ETOOBIG, EUPLOAD (the hub refused or could not be reached), EDIAG (building it failed). */
  code: Code,
  reason: Text,
});

/** One problem with one remote setting (`key` '' for the whole set). */
export const SettingErrorData = StrictObject({
  key: Type.String({ maxLength: 128 }),
  message: Text,
});

/** An ApplyConfig the kiosk put into effect (written to its overrides file). */
export const ConfigAppliedData = StrictObject({
  commandId: Uuid,
  version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  /** Settings that changed and take effect only when kioskd next starts (empty: all in effect). */
  restartRequired: Type.Array(Type.String({ maxLength: 128 }), { maxItems: 64 }),
});

/** An ApplyConfig the kiosk refused: it keeps running on the version it had. */
export const ConfigRejectedData = StrictObject({
  commandId: Uuid,
  version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  /** EINVALID (a setting is unknown or invalid), ESTALE (older than the version it runs), EWRITE (the overrides file could not be written). */
  code: Code,
  reason: Text,
  /** EINVALID: each offending setting. */
  errors: Type.Optional(Type.Array(SettingErrorData, { maxItems: 64 })),
});

export const DoorChangedData = StrictObject({ open: Type.Boolean() });

export const TamperDetectedData = StrictObject({
  input: Type.String({ minLength: 1, maxLength: 64 }),
});

/** Every event type and the schema of its `data`. */
export const eventDataSchemas = {
  DispenseCompleted: DispenseCompletedData,
  PrepareProgress: PrepareProgressData,
  PrepareCompleted: PrepareCompletedData,
  PrepareFailed: PrepareFailedData,
  DiskReturned: DiskReturnedData,
  DiskChecked: DiskCheckedData,
  WipeCompleted: WipeCompletedData,
  WipeFailed: WipeFailedData,
  SlotStateChanged: SlotStateChangedData,
  DiskRemoved: DiskRemovedData,
  FaultRaised: FaultRaisedData,
  FaultCleared: FaultClearedData,
  CommandRejected: CommandRejectedData,
  ReservationCancelled: ReservationCancelledData,
  ReservationExpired: ReservationExpiredData,
  PickupCodeAccepted: PickupCodeAcceptedData,
  PickupCodeRefused: PickupCodeRefusedData,
  TechnicianAction: TechnicianActionData,
  UpdateStatus: UpdateStatusData,
  DoorChanged: DoorChangedData,
  TamperDetected: TamperDetectedData,
  DiagnosticsFailed: DiagnosticsFailedData,
  ConfigApplied: ConfigAppliedData,
  ConfigRejected: ConfigRejectedData,
} as const;

export type EventType = keyof typeof eventDataSchemas;
export const EVENT_TYPES = Object.freeze(Object.keys(eventDataSchemas)) as readonly EventType[];
export type EventDataOf<T extends EventType> = Static<(typeof eventDataSchemas)[T]>;

export type DispenseCompletedData = Static<typeof DispenseCompletedData>;
export type PrepareProgressData = Static<typeof PrepareProgressData>;
export type PrepareCompletedData = Static<typeof PrepareCompletedData>;
export type PrepareFailedData = Static<typeof PrepareFailedData>;
export type DiskReturnedData = Static<typeof DiskReturnedData>;
export type DiskCheckedData = Static<typeof DiskCheckedData>;
export type WipeCompletedData = Static<typeof WipeCompletedData>;
export type WipeFailedData = Static<typeof WipeFailedData>;
export type SlotStateChangedData = Static<typeof SlotStateChangedData>;
export type DiskRemovedData = Static<typeof DiskRemovedData>;
export type FaultRaisedData = Static<typeof FaultRaisedData>;
export type FaultClearedData = Static<typeof FaultClearedData>;
export type CommandRejectedData = Static<typeof CommandRejectedData>;
export type ReservationCancelledData = Static<typeof ReservationCancelledData>;
export type ReservationExpiredData = Static<typeof ReservationExpiredData>;
export type PickupCodeAcceptedData = Static<typeof PickupCodeAcceptedData>;
export type PickupCodeRefusedData = Static<typeof PickupCodeRefusedData>;
export type TechnicianActionData = Static<typeof TechnicianActionData>;
export type UpdateStatusData = Static<typeof UpdateStatusData>;
export type DiagnosticsFailedData = Static<typeof DiagnosticsFailedData>;
export type ConfigAppliedData = Static<typeof ConfigAppliedData>;
export type ConfigRejectedData = Static<typeof ConfigRejectedData>;
export type UpdateState = UpdateStatusData['state'];
export type DoorChangedData = Static<typeof DoorChangedData>;
export type TamperDetectedData = Static<typeof TamperDetectedData>;
