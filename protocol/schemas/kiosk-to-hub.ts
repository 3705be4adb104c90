import { type Static, type TLiteral, type TObject, type TUnion, Type } from '@sinclair/typebox';
import { FEATURE_NAME_PATTERN, MAX_FEATURES } from '../features.js';
import {
  Count,
  EmptyObject,
  IsoTimestamp,
  KioskId,
  Slot,
  StrictObject,
  StringEnum,
  Text,
  Uuid,
  Version,
} from './common.js';
import { EVENT_TYPES, type EventType, eventDataSchemas } from './events.js';
import { SlotSnapshot } from './slot-snapshot.js';

export const BOOT_REASONS = [
  'PowerOn',
  'Watchdog',
  'Reset',
  'SoftwareUpdate',
  'Crash',
  'Unknown',
] as const;

/** The remote configuration a kiosk runs (ApplyConfig): reported in Boot and Heartbeat. */
export const ConfigState = StrictObject({
  /** Version of the remote settings in its overrides file; 0: none ever applied. */
  version: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  /** Some of those settings wait for kioskd's next start. */
  restartPending: Type.Boolean(),
});

/** The kiosk's content cache use (bytes), for the hub's cache-full alert. */
export const CacheUsage = StrictObject({ usedBytes: Count, maxBytes: Count });

/** A protocol feature's name (protocol/features.ts); names unknown to the receiver are allowed. */
export const FeatureName = Type.String({
  pattern: FEATURE_NAME_PATTERN,
  minLength: 1,
  maxLength: 64,
});

export const BootRequest = StrictObject({
  kioskId: KioskId,
  softwareVersion: Version,
  imageVersion: Type.Optional(Version),
  slotCount: Slot,
  bootReason: StringEnum(BOOT_REASONS),
  /**
   * A random id the kiosk's database got when it was made. A new one tells the hub the
   * kiosk's state was lost (SD card re-flashed): its event seq starts again at 1.
   */
  databaseId: Type.Optional(Uuid),
  /** The remote configuration it runs (absent: a kiosk that predates remote configuration). */
  config: Type.Optional(ConfigState),
  /**
   * The protocol features it understands (protocol/features.ts). The hub sends no command or
   * optional field of a feature not listed, and ignores names it does not know. Absent (a kiosk
   * older than feature negotiation): the baseline features.
   */
  features: Type.Optional(Type.Array(FeatureName, { maxItems: MAX_FEATURES })),
});

export const BootResponse = StrictObject({
  status: StringEnum(['Accepted', 'Rejected'] as const),
  /** The hub's clock: a Pi has no real-time clock. */
  currentTime: IsoTimestamp,
  /** Seconds between Heartbeats. */
  heartbeatInterval: Type.Integer({ minimum: 1, maximum: 86_400 }),
  reason: Type.Optional(Text),
});

/** Both fields optional: `{}` stays a valid Heartbeat. */
export const HeartbeatRequest = StrictObject({
  config: Type.Optional(ConfigState),
  cache: Type.Optional(CacheUsage),
});
export const HeartbeatResponse = StrictObject({ currentTime: IsoTimestamp });

export { SlotSnapshot };

export const InventoryRequest = StrictObject({
  takenAt: IsoTimestamp,
  slots: Type.Array(SlotSnapshot, { maxItems: 255 }),
});
export const InventoryResponse = EmptyObject;

/** Per-kiosk, gap-free event sequence number. */
export const EventSeq = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

type EventVariant<T extends EventType> = TObject<{
  eventId: typeof Uuid;
  seq: typeof EventSeq;
  at: typeof IsoTimestamp;
  type: TLiteral<T>;
  data: (typeof eventDataSchemas)[T];
}>;
type AnyEventVariant = { [K in EventType]: EventVariant<K> }[EventType];

function eventVariant<T extends EventType>(type: T): EventVariant<T> {
  return StrictObject({
    eventId: Uuid,
    seq: EventSeq,
    at: IsoTimestamp,
    type: Type.Literal(type),
    data: eventDataSchemas[type],
  }) as EventVariant<T>;
}

/** One durable event from the kiosk's outbox: a union discriminated by `type`. */
export const EventRequest = Type.Union(
  EVENT_TYPES.map((t) => eventVariant(t)),
) as unknown as TUnion<AnyEventVariant[]>;

/**
 * The Event envelope with `data` left open: validation checks this first, then `data` against
 * `eventDataSchemas[type]`, which gives precise error paths instead of a 17-way union failure.
 */
export const EventEnvelope = StrictObject({
  eventId: Uuid,
  seq: EventSeq,
  at: IsoTimestamp,
  type: StringEnum(EVENT_TYPES as unknown as readonly [EventType, ...EventType[]]),
  data: Type.Unknown(),
});

export const EventResponse = EmptyObject;

export type BootReason = (typeof BOOT_REASONS)[number];
export type BootRequest = Static<typeof BootRequest>;
export type BootResponse = Static<typeof BootResponse>;
export type HeartbeatRequest = Static<typeof HeartbeatRequest>;
export type ConfigState = Static<typeof ConfigState>;
export type CacheUsage = Static<typeof CacheUsage>;
export type HeartbeatResponse = Static<typeof HeartbeatResponse>;
export type InventoryRequest = Static<typeof InventoryRequest>;
export type InventoryResponse = Static<typeof InventoryResponse>;
export type EventRequest = Static<typeof EventRequest>;
export type EventResponse = Static<typeof EventResponse>;
/** An Event request narrowed to one type, e.g. `KioskEvent<'DispenseCompleted'>`. */
export type KioskEvent<T extends EventType = EventType> = Extract<EventRequest, { type: T }>;
