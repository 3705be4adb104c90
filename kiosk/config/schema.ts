import {
  CloneType,
  type Static,
  type TObject,
  type TProperties,
  type TSchema,
  Type,
} from '@sinclair/typebox';
import { REMOTE_SETTINGS } from '../../protocol/remote-config.js';

/**
 * kioskd configuration schema. Every object refuses unknown keys (a typo is an error),
 * except the hardware device sub-configs, whose full shapes belong to hal/<device>:
 * those are checked here for their `driver` discriminator and the fields kioskd reads or
 * must hand over typed (kiosk/hardware.ts passes them to `create<Device>(config)` without a
 * cast, so the compiler checks them against hal's types); other keys pass through.
 */

const strict = { additionalProperties: false } as const;

/**
 * A setting the hub may change (protocol/remote-config.ts): its schema is the shared one, so
 * what the hub checks before sending is what kioskd checks here; kioskd adds only the default.
 */
function remote<K extends keyof typeof REMOTE_SETTINGS>(
  key: K,
  defaultValue: Static<(typeof REMOTE_SETTINGS)[K]['schema']>,
): (typeof REMOTE_SETTINGS)[K]['schema'] {
  const s: TSchema = REMOTE_SETTINGS[key].schema;
  return CloneType(s, { default: defaultValue }) as (typeof REMOTE_SETTINGS)[K]['schema'];
}

/** One hardware device: `{ driver: 'real' | 'sim', ...driver options }`. */
function device<R extends TProperties, S extends TProperties>(realFields: R, simFields: S) {
  return {
    real: Type.Object(
      { driver: Type.Literal('real'), ...realFields },
      { additionalProperties: true },
    ),
    sim: Type.Object({ driver: Type.Literal('sim'), ...simFields }, { additionalProperties: true }),
  };
}

/** A GPIO line: the chip's label and the line's offset in it (hal/gpio GpioLineRef). */
const gpioLine = {
  chip: Type.String({ minLength: 1 }),
  offset: Type.Integer({ minimum: 0 }),
};
const level = Type.Union([Type.Literal(0), Type.Literal(1)]);
const open = { additionalProperties: true } as const;

/** `slot -> USB port path` of each slot's disk port (for power switching); both drivers. */
const slotPorts = Type.Optional(Type.Record(Type.String(), Type.String()));

/**
 * Variants of each device config, keyed by `driver` (used for precise error messages). The
 * fields named here are the ones kioskd itself reads or must hand over typed; the real GPIO
 * driver's lines are optional here and required by kiosk/hardware.ts, which names the one
 * missing.
 */
export const deviceVariants = {
  motorBoard: device(
    {
      path: Type.String({ minLength: 1 }),
      baudRate: Type.Integer({ minimum: 1200, default: 115200 }),
    },
    {},
  ),
  gpio: device(
    {
      relays: Type.Optional(
        Type.Array(Type.Object({ slot: Type.Integer({ minimum: 1 }), ...gpioLine }, open)),
      ),
      door: Type.Optional(Type.Object({ ...gpioLine, openLevel: level }, open)),
      tamper: Type.Optional(Type.Object({ ...gpioLine, activeLevel: level }, open)),
      relayActiveLow: Type.Optional(Type.Boolean()),
      protectWhen: Type.Optional(Type.Union([Type.Literal('energized'), Type.Literal('released')])),
      debounceMs: Type.Optional(Type.Number({ minimum: 0 })),
    },
    {},
  ),
  usb: device({ slotPorts }, { slotPorts }),
  keypad: device(
    {
      path: Type.String({
        pattern: '^/',
        description:
          'The keypad by its stable path: /dev/input/by-id/usb-<maker>_<model>-event-kbd (an absolute path; a FIFO fed with input_event records works too, as the e2e tests and bench rigs use, but cannot be grabbed)',
      }),
      layout: Type.Optional(Type.Union([Type.Literal(16), Type.Literal(24)])),
      reconnectMs: Type.Optional(Type.Integer({ minimum: 10 })),
    },
    { socketPath: Type.Optional(Type.String({ minLength: 1 })) },
  ),
  drives: device({}, {}),
  storage: device({}, {}),
} satisfies Record<string, { real: TObject; sim: TObject }>;

export type DeviceName = keyof typeof deviceVariants;

const HardwareConfig = Type.Object(
  {
    motorBoard: Type.Union([deviceVariants.motorBoard.real, deviceVariants.motorBoard.sim]),
    gpio: Type.Union([deviceVariants.gpio.real, deviceVariants.gpio.sim]),
    usb: Type.Union([deviceVariants.usb.real, deviceVariants.usb.sim]),
    /** The pickup-code keypad; absent on a kiosk without one (pickup then needs the hub). */
    keypad: Type.Optional(Type.Union([deviceVariants.keypad.real, deviceVariants.keypad.sim])),
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
    /**
     * Further hub processes (several hub processes sharing one PostgreSQL, without a load
     * balancer in front): after a connection attempt to one ends without an accepted Boot,
     * kioskd tries the next of `[url, ...urls]` after the usual backoff delay, so it survives the
     * loss of the process it was on. The content origin stays `hub.url`'s unless
     * `content.origin` names another (a load-balanced name).
     */
    urls: Type.Optional(Type.Array(Type.String({ pattern: '^wss?://' }), { maxItems: 32 })),
    /** The kiosk secret itself (prefer `secretFile`). Exactly one of the two. */
    secret: Type.Optional(Type.String({ minLength: 1 })),
    /** File holding the kiosk secret (written at enrolment, mode 0600). */
    secretFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Hub's Ed25519 public key (PEM). Exactly one of this and `publicKeyFile`. */
    publicKeyPem: Type.Optional(Type.String({ minLength: 1 })),
    publicKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * PEM file of certificate authorities trusted for the hub's TLS (`wss://` and the content
     * origin's `https://`) besides Node's built-in list: a hub behind a proxy with a private
     * CA (e.g. Caddy's internal CA). Unset: Node's list only (Let's Encrypt and the like).
     */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
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

const ContentConfig = Type.Object(
  {
    /** Content-addressed cache; default `<dataDir>/cache`. */
    cacheDir: Type.Optional(Type.String({ minLength: 1 })),
    /** Upper bound of cached bytes (LRU eviction of unpinned content above it). */
    maxBytes: remote('content.maxBytes', 64 * 2 ** 30),
    /**
     * Base URL of the hub's content origin (`<origin>/content/...`, `<origin>/blobs/...`).
     * Default: the hub's HTTP base derived from `hub.url` (ws -> http, wss -> https, no path).
     */
    origin: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** Blobs downloaded at once. */
    parallelDownloads: remote('content.parallelDownloads', 4),
  },
  { ...strict, default: {} },
);

/** Nominal capacities of portable disks (decimal, as sold): 500e9 holds a "500 GB" disk. */
export const DEFAULT_CAPACITY_CLASSES = [
  16e9, 32e9, 64e9, 120e9, 128e9, 240e9, 250e9, 256e9, 320e9, 480e9, 500e9, 512e9, 640e9, 750e9,
  960e9, 1e12, 1.5e12, 2e12, 3e12, 4e12, 5e12, 6e12, 8e12,
];

const ImageModeConfig = Type.Object(
  {
    /** Clone disks that fit a capacity class from a cached block image; false: file mode only. */
    enabled: Type.Boolean({ default: true }),
    /**
     * Disk capacity classes in bytes. A disk belongs to the largest class not above its
     * capacity; its image (one per content version and class) spans the whole class.
     */
    classes: Type.Array(Type.Integer({ minimum: 16 * 2 ** 20 }), {
      maxItems: 64,
      default: DEFAULT_CAPACITY_CLASSES,
    }),
    /** A disk more than this many percent above its class is cloned in file mode instead (so it keeps its whole capacity). */
    slackPercent: Type.Number({ minimum: 0, maximum: 50, default: 1 }),
  },
  { ...strict, default: {} },
);

const CloningConfig = Type.Object(
  {
    /** Block images per content version and capacity class (image mode). */
    image: ImageModeConfig,
    /** Disks cloned at once. */
    concurrency: remote('cloning.concurrency', 2),
    /** Parallel rsync processes per disk. */
    rsyncProcesses: Type.Integer({ minimum: 1, maximum: 16, default: 4 }),
    /** Parallel readers while verifying. */
    verifyReaders: Type.Integer({ minimum: 1, maximum: 16, default: 4 }),
    /** How a returned writable disk is wiped (`full` overwrites every byte). */
    wipeMode: remote('cloning.wipeMode', 'quick'),
    /** PrepareProgress events at most this often. */
    progressIntervalMs: Type.Integer({ minimum: 0, default: 2000 }),
    /** Disks kept ready in advance per content (empty: no pre-staging). */
    prestage: remote('cloning.prestage', []),
    /** How often pre-staging looks for a shortfall. */
    prestageIntervalSeconds: remote('cloning.prestageIntervalSeconds', 60),
  },
  { ...strict, default: {} },
);

const ReservationsConfig = Type.Object(
  {
    /** Held disks whose hold passed are released at least this often (and at start). */
    expiryCheckSeconds: remote('reservations.expiryCheckSeconds', 15),
  },
  { ...strict, default: {} },
);

const UpdateConfig = Type.Object(
  {
    /** Bundles being downloaded, the database copy and trial markers; default `<dataDir>/updates`. */
    dir: Type.Optional(Type.String({ minLength: 1 })),
    /** The rauc client; it talks to RAUC's D-Bus service (images/README.md "Updates"). */
    raucCommand: Type.String({ minLength: 1, default: 'rauc' }),
    /** RAUC's system.conf for the local `rauc info` of a technician's bundle; default RAUC's own. */
    raucConf: Type.Optional(Type.String({ minLength: 1 })),
    /** The SD image's version stamp: the version an update is compared with and reported. */
    imageVersionFile: Type.String({ minLength: 1, default: '/etc/disk-kiosk/image-version' }),
    /** kioskd asks root for the reboot into a new slot by writing this file (a systemd path unit watches it). */
    rebootRequestFile: Type.String({ minLength: 1, default: '/run/disk-kiosk/update-reboot' }),
    /** Bytes that must stay free on the data partition besides a bundle being downloaded. */
    reserveBytes: Type.Integer({ minimum: 0, default: 64 * 2 ** 20 }),
    /** The update fails if kioskd still runs this long after asking for the reboot. */
    rebootTimeoutSeconds: Type.Integer({ minimum: 1, default: 300 }),
    /**
     * On a trial boot, the hub must have accepted kioskd's Boot within this long, else kioskd
     * reboots into the old slot itself (ENOHUB). Keep it under the image's
     * UPDATE_TRIAL_SECONDS (900), the trial guard's limit for the same.
     */
    trialHubTimeoutSeconds: Type.Integer({ minimum: 1, default: 600 }),
    /** UpdateStatus progress events at most this often. */
    progressIntervalMs: Type.Integer({ minimum: 0, default: 5000 }),
  },
  { ...strict, default: {} },
);

export const KioskConfigSchema = Type.Object(
  {
    kioskId: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' }),
    /** Holds kioskd.sqlite, the content cache and logs. */
    dataDir: Type.String({ minLength: 1 }),
    hub: HubConfig,
    /**
     * Slots 1..count. Lowered, the empty slots above it are removed at start; a slot above it
     * that still holds a disk or work stops kioskd with ESLOTCOUNT naming it.
     */
    slots: Type.Object({ count: Type.Integer({ minimum: 1, maximum: 255 }) }, strict),
    hardware: HardwareConfig,
    dispense: Type.Object(
      {
        /** How long a pushed-out disk waits to be taken before it is retracted. */
        pickupWindowSeconds: Type.Integer({ minimum: 5, maximum: 600, default: 60 }),
      },
      { ...strict, default: {} },
    ),
    /** Content cache and the hub's content origin. */
    content: ContentConfig,
    /** Cloning pipeline, returned-disk wipes, pre-staging. */
    cloning: CloningConfig,
    reservations: ReservationsConfig,
    /** Software updates with RAUC (InstallUpdate, kioskctl update). */
    update: UpdateConfig,
    logLevel: remote('logLevel', 'info'),
    /** kioskd's Prometheus metrics (GET /metrics); off unless `port` is set (the SD image: 9465). */
    metrics: Type.Object(
      {
        /** Address to listen on; loopback by default (node-exporter style: scrape it locally or through a tunnel). */
        host: Type.String({ minLength: 1, default: '127.0.0.1' }),
        /** TCP port; 0 = any free port (tests). Absent: no metrics server. */
        port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
      },
      { ...strict, default: {} },
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
export type ContentConfigT = Static<typeof ContentConfig>;
export type CloningConfigT = Static<typeof CloningConfig>;
export type UpdateConfigT = Static<typeof UpdateConfig>;
