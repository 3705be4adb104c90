import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';

/**
 * kioskd configuration schema. Every object refuses unknown keys (a typo is an error),
 * except the hardware device sub-configs, whose full shapes belong to hal/<device>:
 * those are checked here only for their `driver` discriminator and the fields common
 * to every kiosk, and passed through to `create<Device>(config)`.
 */

const strict = { additionalProperties: false } as const;

/** One hardware device: `{ driver: 'real' | 'sim', ...driver options }`. */
function device(realFields: Record<string, TSchema> = {}, simFields: Record<string, TSchema> = {}) {
  return {
    real: Type.Object(
      { driver: Type.Literal('real'), ...realFields },
      { additionalProperties: true },
    ),
    sim: Type.Object({ driver: Type.Literal('sim'), ...simFields }, { additionalProperties: true }),
  };
}

/** Variants of each device config, keyed by `driver` (used for precise error messages). */
export const deviceVariants = {
  motorBoard: device({
    path: Type.String({ minLength: 1 }),
    baudRate: Type.Integer({ minimum: 1200, default: 115200 }),
  }),
  gpio: device(),
  usb: device(),
  drives: device(),
  storage: device(),
} satisfies Record<string, { real: TObject; sim: TObject }>;

export type DeviceName = keyof typeof deviceVariants;

const HardwareConfig = Type.Object(
  {
    motorBoard: Type.Union([deviceVariants.motorBoard.real, deviceVariants.motorBoard.sim]),
    gpio: Type.Union([deviceVariants.gpio.real, deviceVariants.gpio.sim]),
    usb: Type.Union([deviceVariants.usb.real, deviceVariants.usb.sim]),
    drives: Type.Union([deviceVariants.drives.real, deviceVariants.drives.sim]),
    storage: Type.Union([deviceVariants.storage.real, deviceVariants.storage.sim]),
  },
  strict,
);

const BackoffConfig = Type.Object(
  {
    /** First reconnect delay ceiling in ms; the delay is uniform in [0, min(cap, base*2^n)]. */
    baseMs: Type.Integer({ minimum: 1, default: 1000 }),
    /** Largest reconnect delay ceiling in ms. */
    capMs: Type.Integer({ minimum: 1, default: 60_000 }),
    /** A connection that stayed up this long resets the backoff. */
    stableSeconds: Type.Number({ minimum: 0, default: 60 }),
  },
  { ...strict, default: {} },
);

const HubConfig = Type.Object(
  {
    /** `ws(s)://host[:port]/kiosk`. */
    url: Type.String({ pattern: '^wss?://' }),
    /** The kiosk secret itself (prefer `secretFile`). Exactly one of the two. */
    secret: Type.Optional(Type.String({ minLength: 1 })),
    /** File holding the kiosk secret (written at enrolment, mode 0600). */
    secretFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Hub's Ed25519 public key (PEM). Exactly one of this and `publicKeyFile`. */
    publicKeyPem: Type.Optional(Type.String({ minLength: 1 })),
    publicKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Heartbeat interval used until the hub's Boot answer gives one. */
    heartbeatFallbackSeconds: Type.Integer({ minimum: 1, default: 60 }),
    /** Timeout of one call to the hub. */
    callTimeoutSeconds: Type.Number({ minimum: 0.1, default: 30 }),
    /** Events in flight at once while draining the outbox (1 = strictly one at a time). */
    eventWindow: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
    backoff: BackoffConfig,
  },
  strict,
);

export const KioskConfigSchema = Type.Object(
  {
    kioskId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }),
    /** Holds kioskd.sqlite, the content cache and logs. */
    dataDir: Type.String({ minLength: 1 }),
    hub: HubConfig,
    slots: Type.Object({ count: Type.Integer({ minimum: 1, maximum: 255 }) }, strict),
    hardware: HardwareConfig,
    dispense: Type.Object(
      {
        /** How long a pushed-out disk waits to be taken before it is retracted. */
        pickupWindowSeconds: Type.Integer({ minimum: 5, maximum: 600, default: 60 }),
      },
      { ...strict, default: {} },
    ),
    logLevel: Type.Union(
      [
        Type.Literal('fatal'),
        Type.Literal('error'),
        Type.Literal('warn'),
        Type.Literal('info'),
        Type.Literal('debug'),
        Type.Literal('trace'),
        Type.Literal('silent'),
      ],
      { default: 'info' },
    ),
    /** Unix socket of the maintenance CLI (kioskctl). */
    maintenanceSocket: Type.String({ minLength: 1, default: '/run/disk-kiosk/kioskd.sock' }),
  },
  strict,
);

export type KioskConfig = Static<typeof KioskConfigSchema>;
export type HubConfigT = KioskConfig['hub'];
export type HardwareConfigT = KioskConfig['hardware'];
export type BackoffConfigT = Static<typeof BackoffConfig>;
