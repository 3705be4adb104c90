import {
  type Static,
  type TLiteral,
  type TObject,
  type TProperties,
  type TSchema,
  type TUnion,
  Type,
} from '@sinclair/typebox';

/** Strict object: no additional properties. */
export function StrictObject<T extends TProperties>(properties: T): TObject<T> {
  return Type.Object(properties, { additionalProperties: false });
}

type LiteralTuple<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** Union of string literals (a closed enum); needs at least two values. */
export function StringEnum<const T extends readonly string[]>(values: T): TUnion<LiteralTuple<T>> {
  return Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<LiteralTuple<T>>;
}

export const UUID_PATTERN =
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const ISO_TIMESTAMP_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';
export const TOKEN_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]*$';
export const BASE64URL_PATTERN = '^[A-Za-z0-9_-]+$';

/** UUID (any version, either case), e.g. from crypto.randomUUID(). */
export const Uuid = Type.String({ pattern: UUID_PATTERN, minLength: 36, maxLength: 36 });

/** ISO 8601 date-time with seconds and a zone, e.g. Date.prototype.toISOString(). */
export const IsoTimestamp = Type.String({
  pattern: ISO_TIMESTAMP_PATTERN,
  minLength: 20,
  maxLength: 35,
});

/**
 * Opaque identifier (disk, content, order, reservation, kiosk): 1..128 chars of
 * letters, digits and `._:-`, starting with a letter or digit. UUIDs qualify.
 */
export const Token = Type.String({ pattern: TOKEN_PATTERN, minLength: 1, maxLength: 128 });

/** Kiosk id: like Token but at most 64 chars. */
export const KioskId = Type.String({ pattern: TOKEN_PATTERN, minLength: 1, maxLength: 64 });

/** An absolute http(s) URL, up to 2048 characters. */
export const HttpUrl = Type.String({
  pattern: '^https?://[^\\s]+$',
  minLength: 8,
  maxLength: 2048,
});

/** 1-based slot number. */
export const Slot = Type.Integer({ minimum: 1, maximum: 255 });

/** Non-negative integer byte/file count (safe integer range). */
export const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** Short machine-readable code, e.g. 'EJAM'. */
export const Code = Type.String({ minLength: 1, maxLength: 64 });

/** Human-readable reason or message. */
export const Text = Type.String({ minLength: 0, maxLength: 1024 });

/** Version string, e.g. '1.4.2' or '2024-06-01'. */
export const Version = Type.String({ minLength: 1, maxLength: 64 });

/** Hardware serial number as reported by the device. */
export const Serial = Type.String({ minLength: 1, maxLength: 128 });

export const SLOT_STATES = [
  'empty',
  'loaded',
  'preparing',
  'ready',
  'reserved',
  'dispensing',
  'returned',
  'fault',
  'disabled',
] as const;
export const SlotState = StringEnum(SLOT_STATES);
export type SlotState = Static<typeof SlotState>;

export const Fault = StrictObject({ code: Code, message: Text });
export type Fault = Static<typeof Fault>;

/** Signature block carried by Dispense, PrepareDisk and WipeDisk (see signing.ts). */
export const CommandSignatureSchema = StrictObject({
  kioskId: KioskId,
  expiresAt: IsoTimestamp,
  /** base64url of 16 random bytes (22 chars). */
  nonce: Type.String({ pattern: BASE64URL_PATTERN, minLength: 22, maxLength: 22 }),
  /** base64url Ed25519 signature (64 bytes, 86 chars). */
  sig: Type.String({ pattern: BASE64URL_PATTERN, minLength: 86, maxLength: 86 }),
});
export type CommandSignature = Static<typeof CommandSignatureSchema>;

export const EmptyObject = StrictObject({});
export type EmptyObject = Static<typeof EmptyObject>;

export type { TSchema };
