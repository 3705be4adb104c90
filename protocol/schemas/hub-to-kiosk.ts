import { type Static, Type } from '@sinclair/typebox';
import { WireRemoteSettings } from '../remote-config.js';
import {
  CommandSignatureSchema,
  Count,
  HttpUrl,
  IsoTimestamp,
  Slot,
  StrictObject,
  StringEnum,
  Text,
  Token,
  Uuid,
  Version,
} from './common.js';
import { WipeMode } from './events.js';

/**
 * The answer to every hub -> kiosk command: long work answers Accepted at once and reports its
 * outcome as events; Rejected carries a reason.
 */
export const CommandResponse = StrictObject({
  status: StringEnum(['Accepted', 'Rejected'] as const),
  reason: Type.Optional(Text),
});

export const DispenseRequest = StrictObject({
  commandId: Uuid,
  slot: Slot,
  diskId: Token,
  orderId: Type.Optional(Token),
  reservationId: Type.Optional(Token),
  writeProtect: Type.Boolean(),
  /** Seconds the renter has to take the disk before it is pulled back. */
  pickupWindowSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
  signature: CommandSignatureSchema,
});

export const PrepareDiskRequest = StrictObject({
  commandId: Uuid,
  reservationId: Token,
  contentId: Token,
  contentVersion: Version,
  minCapacityBytes: Count,
  writeProtect: Type.Boolean(),
  holdUntil: IsoTimestamp,
  manifestUrl: Type.Optional(HttpUrl),
  slot: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 255,
      description:
        'The slot the hub claimed for this reservation when it created it (as Dispense names its slot). ' +
        'The kiosk uses exactly this slot: a ready disk that already holds contentId@contentVersion is held ' +
        'as it is (nothing copied); a loaded disk is prepared; a ready disk of other content only with ' +
        '`reformatReady`. Any other state ends in PrepareFailed (ESLOTBUSY, or ESTOCK for ready stock it may ' +
        'not reformat); the kiosk never falls back to another slot, which the hub may have sold. Absent ' +
        '(older hubs): the kiosk chooses by the same rule: a ready disk with this content, else a loaded one.',
    }),
  ),
  reformatReady: Type.Optional(
    Type.Object(
      {
        keepReady: Type.Integer({
          minimum: 0,
          maximum: 255,
          description:
            'Ready disks holding the same content as the reformatted one that must stay ready besides it.',
        }),
      },
      {
        additionalProperties: false,
        description:
          'Present only when the operator allows a reservation to reformat a ready disk of OTHER content ' +
          '(hub config rental.reservationsMayReformatReady). The kiosk still refuses (PrepareFailed ESTOCK) ' +
          'when fewer than keepReady other ready disks with that content would stay ready.',
      },
    ),
  ),
  signature: CommandSignatureSchema,
});

/**
 * Install a software update (a signed RAUC bundle of the SD image's root file system) from the
 * hub's content origin. Long work: Accepted at once, then UpdateStatus events.
 */
export const InstallUpdateRequest = StrictObject({
  commandId: Uuid,
  /** The image version the bundle holds (what the kiosk reports as Boot.imageVersion once updated). */
  version: Version,
  /** Where to download the bundle: the content origin's blob URL (`<origin>/blobs/sha256/<sha256>`). */
  bundleUrl: HttpUrl,
  /** Lower-case hex SHA-256 of the bundle. */
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$', minLength: 64, maxLength: 64 }),
  /** The bundle's size in bytes. */
  size: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  /**
   * The kiosk must have started installing by then: while dispenses, preparations, wipes or
   * technician jobs keep it busy past it, the update fails (UpdateStatus `failed` ETIMEDOUT).
   */
  deadline: IsoTimestamp,
  signature: CommandSignatureSchema,
});

/** kioskd's log levels, least to most severe (pino's). */
export const LogLevel = StringEnum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const);

/**
 * Asks the kiosk for its diagnostics (signed): `bundle` is the tar.gz `kioskctl diag` makes
 * (configuration without secrets, recent logs, database summary, status, slots, disks,
 * versions); `logs` its last `lines` log lines at `level` or above (text, one JSON line
 * each). The kiosk answers Accepted at once, builds it, scrubs every secret it holds from it,
 * and uploads it with HTTP `POST <content origin>/api/kiosk/diagnostics/<requestId>` with its
 * Basic credentials and `x-content-sha256`, retrying a failed upload; when it gives up it
 * sends a DiagnosticsFailed event. The upload settles the command.
 */
export const UploadDiagnosticsRequest = StrictObject({
  commandId: Uuid,
  /** The hub's diagnostics request id: the upload's URL names it. */
  requestId: Token,
  kind: StringEnum(['bundle', 'logs'] as const),
  /** `logs`: how many of the newest matching lines (default 200). */
  lines: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  /** `logs`: the lowest level included (default `info`). */
  level: Type.Optional(LogLevel),
  /** The hub refuses uploads larger than this; the kiosk fails at once (ETOOBIG) instead of sending one. */
  maxBytes: Type.Integer({ minimum: 1024, maximum: 1024 ** 3 }),
  signature: CommandSignatureSchema,
});

/**
 * Remote configuration (signed): `settings` is the complete set of remote overrides the kiosk
 * shall run with, version `version` (keys absent fall back to the kiosk's own configuration
 * file). Keys and values: protocol/remote-config.ts REMOTE_SETTINGS (docs/protocol.md). The
 * kiosk checks them, merges them into its configuration and checks that whole; if anything is
 * wrong it answers Rejected, sends ConfigRejected and keeps running on what it had. Else it
 * writes them to its overrides file atomically, puts into effect what it can at once, answers
 * Accepted and sends ConfigApplied (naming the settings that wait for a restart). A version not
 * above the one it runs is answered Accepted without change when the settings are the same, else
 * Rejected (ESTALE).
 */
export const ApplyConfigRequest = StrictObject({
  commandId: Uuid,
  version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  settings: WireRemoteSettings,
  signature: CommandSignatureSchema,
});

/** The scrypt parameters and result of a pickup code's hash (docs/pickup-codes.md). */
export const PickupCodeHash = StrictObject({
  alg: Type.Literal('scrypt'),
  /** CPU/memory cost, a power of two from 2^12 to 2^20. */
  N: Type.Integer({ minimum: 4096, maximum: 1048576 }),
  r: Type.Integer({ minimum: 1, maximum: 32 }),
  p: Type.Integer({ minimum: 1, maximum: 16 }),
  /** 16 random bytes, base64url. */
  salt: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$' }),
  /** 32 bytes, base64url. */
  hash: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
});

/**
 * Arms a reservation's pickup code on the kiosk (signed): the kiosk keeps the code's salted
 * scrypt hash, bound to kiosk, slot, reservation and expiry, and dispenses the slot when the
 * code is typed on its keypad, with or without a hub connection, until `codeExpiresAt`.
 */
export const ArmPickupCodeRequest = StrictObject({
  commandId: Uuid,
  reservationId: Token,
  slot: Slot,
  diskId: Token,
  writeProtect: Type.Boolean(),
  pickupWindowSeconds: Type.Integer({ minimum: 1, maximum: 3600 }),
  /** The end of the reservation's hold: the code is refused from then on. */
  codeExpiresAt: IsoTimestamp,
  codeHash: PickupCodeHash,
  signature: CommandSignatureSchema,
});

export const CancelReservationRequest = StrictObject({ commandId: Uuid, reservationId: Token });

export const SetWriteProtectRequest = StrictObject({
  commandId: Uuid,
  slot: Slot,
  on: Type.Boolean(),
});

export const WipeDiskRequest = StrictObject({
  commandId: Uuid,
  slot: Slot,
  mode: WipeMode,
  signature: CommandSignatureSchema,
});

export const DisableSlotRequest = StrictObject({
  commandId: Uuid,
  slot: Slot,
  reason: Type.Optional(Text),
});

export const EnableSlotRequest = StrictObject({
  commandId: Uuid,
  slot: Slot,
  reason: Type.Optional(Text),
});

export const TriggerMessageRequest = StrictObject({
  commandId: Uuid,
  message: StringEnum(['Inventory', 'Heartbeat', 'Boot'] as const),
});

export const ResetRequest = StrictObject({
  commandId: Uuid,
  kind: StringEnum(['Soft', 'Hard'] as const),
});

export type CommandResponse = Static<typeof CommandResponse>;
export type CommandStatus = CommandResponse['status'];
export type DispenseRequest = Static<typeof DispenseRequest>;
export type DispenseResponse = CommandResponse;
export type PrepareDiskRequest = Static<typeof PrepareDiskRequest>;
export type PrepareDiskResponse = CommandResponse;
export type InstallUpdateRequest = Static<typeof InstallUpdateRequest>;
export type InstallUpdateResponse = CommandResponse;
export type PickupCodeHash = Static<typeof PickupCodeHash>;
export type UploadDiagnosticsRequest = Static<typeof UploadDiagnosticsRequest>;
export type UploadDiagnosticsResponse = CommandResponse;
export type ApplyConfigRequest = Static<typeof ApplyConfigRequest>;
export type ApplyConfigResponse = CommandResponse;
export type ArmPickupCodeRequest = Static<typeof ArmPickupCodeRequest>;
export type ArmPickupCodeResponse = CommandResponse;
export type CancelReservationRequest = Static<typeof CancelReservationRequest>;
export type CancelReservationResponse = CommandResponse;
export type SetWriteProtectRequest = Static<typeof SetWriteProtectRequest>;
export type SetWriteProtectResponse = CommandResponse;
export type WipeDiskRequest = Static<typeof WipeDiskRequest>;
export type WipeDiskResponse = CommandResponse;
export type DisableSlotRequest = Static<typeof DisableSlotRequest>;
export type DisableSlotResponse = CommandResponse;
export type EnableSlotRequest = Static<typeof EnableSlotRequest>;
export type EnableSlotResponse = CommandResponse;
export type TriggerMessageRequest = Static<typeof TriggerMessageRequest>;
export type TriggerMessageResponse = CommandResponse;
export type ResetRequest = Static<typeof ResetRequest>;
export type ResetResponse = CommandResponse;
