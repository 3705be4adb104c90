import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AlertsConfigSchema } from './alerts/config.js';
import { ConfigError } from './errors.js';
import { checkMapConfig, MapConfigSchema } from './map-config.js';
import { NotificationsConfigSchema } from './notifications/config.js';
import { SmtpConfigSchema } from './notifications/mailer.js';
import { RentalConfigSchema } from './rental/config.js';

/** The hub's configuration: read once at start (file, then environment), validated, passed in. */
export const HubConfigSchema = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
    /**
     * How many connections may wait to be accepted (the listening socket's backlog). A fleet
     * reconnecting at once (a restart, another process killed) arrives faster than one event
     * loop accepts: connections past the backlog are dropped by the kernel and the kiosk's TCP
     * retries its SYN only after 1 s, 3 s, 7 s... Node's own default is 511; the kernel caps it
     * at `net.core.somaxconn` (4096 on Raspberry Pi OS and Debian 12). Environment:
     * `CLOUD_LITE_LISTEN_BACKLOG`.
     */
    listenBacklog: Type.Integer({ minimum: 1, maximum: 65535, default: 4096 }),
    /** SQLite database file (created on first start); unused with `store.kind` postgres. */
    databasePath: Type.String({ minLength: 1, default: './cloud-lite.db' }),
    /**
     * Where the hub keeps its state. `sqlite` (the default): the file `databasePath`, one hub
     * process. `postgres`: the database at `url` (`postgres://user:password@host:5432/db`),
     * which several hub processes may share; `poolSize` connections per process at most
     * (docs/postgres.md). Environment: `CLOUD_LITE_STORE_KIND`, `CLOUD_LITE_STORE_URL`,
     * `CLOUD_LITE_STORE_POOL_SIZE`.
     */
    store: Type.Object(
      {
        kind: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], { default: 'sqlite' }),
        url: Type.Optional(Type.String({ minLength: 1 })),
        poolSize: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
        /**
         * PostgreSQL: false (the default, when unset) lets the kiosks' bookkeeping (Boots,
         * heartbeats, online marks, commands recorded, sent and answered) commit without
         * waiting for the WAL's flush, as SQLite's non-money commits do; serialisable
         * transactions (money, stock, events) always wait. true: every commit waits
         * (docs/postgres.md, "Transactions and money").
         */
        syncBookkeeping: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Ed25519 private key (PEM); generated with 0600 permissions on first start if missing. */
    signingKeyPath: Type.String({ minLength: 1, default: './hub-signing-key.pem' }),
    /** The admin's bearer token for the operator API (staff accounts log in with sessions instead). */
    adminToken: Type.String({ minLength: 16 }),
    /**
     * Reverse proxies trusted for `X-Forwarded-For`, `-Proto` and `-Host` (fastify's
     * trustProxy): IP addresses, CIDR ranges, or `loopback` / `linklocal` / `uniquelocal`.
     * A request from one of them takes its client address and scheme from those headers
     * (throttles see the renter, the session cookie gets `Secure` behind TLS). Empty (the
     * default): the headers are ignored and the socket's address and scheme count.
     * Environment: `CLOUD_LITE_TRUST_PROXY=127.0.0.1,10.0.0.0/8`.
     */
    trustProxy: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
      default: [],
      maxItems: 64,
    }),
    /**
     * Bearer token a metrics scraper sends to read `/metrics` (so Prometheus need not hold the
     * admin token). The admin token is accepted too; without either, `/metrics` answers 401.
     */
    metricsToken: Type.Optional(Type.String({ minLength: 16 })),
    /**
     * Public URL of the hub (optional): handed to kiosks at enrolment, the base of the links in
     * account messages, and an origin the same-origin check accepts.
     */
    publicUrl: Type.Optional(Type.String({ minLength: 1 })),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    /** Told to kiosks in the Boot answer. */
    heartbeatIntervalSeconds: Type.Integer({ minimum: 1, default: 60 }),
    /** The hub pings every kiosk this often; a kiosk that has not ponged by the next ping is dropped. */
    pingIntervalMs: Type.Integer({ minimum: 10, default: 30_000 }),
    /** Largest WebSocket message accepted; larger ones close the socket with 1009. */
    maxPayloadBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 }),
    /** Largest HTTP request body accepted. */
    bodyLimitBytes: Type.Integer({ minimum: 1024, default: 64 * 1024 }),
    enrolmentTokenTtlSeconds: Type.Integer({ minimum: 1, default: 7 * 24 * 3600 }),
    /** Failed kiosk enrolments one client address may make within `enrolWindowSeconds`. */
    enrolMaxFailuresPerAddress: Type.Integer({ minimum: 1, default: 10 }),
    enrolWindowSeconds: Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600, default: 3600 }),
    /** How long the hub waits for a kiosk to answer one command CALL before it re-sends later. */
    commandCallTimeoutMs: Type.Integer({ minimum: 10, default: 30_000 }),
    /** Deadline of an operator command when none is given. */
    commandDefaultTtlSeconds: Type.Integer({ minimum: 1, default: 3600 }),
    /** How often commands past their deadline are expired and timed-out sends retried. */
    commandSweepIntervalMs: Type.Integer({ minimum: 10, default: 1000 }),
    /** How often open rollouts are looked at besides kiosk events (picks up CLI-made ones). */
    rolloutTickMs: Type.Integer({ minimum: 10, default: 10_000 }),
    /** Remote diagnostics (docs/remote-operations.md). */
    diagnostics: Type.Object(
      {
        /** Largest diagnostics upload a kiosk may send (bytes). */
        maxUploadBytes: Type.Integer({
          minimum: 1024,
          maximum: 1024 ** 3,
          default: 32 * 1024 ** 2,
        }),
        /** How long a kiosk has to upload after the request (it must be online by then). */
        deadlineSeconds: Type.Integer({ minimum: 10, maximum: 3600, default: 900 }),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Content origin: signed packages served to kiosks (cloud-lite/content). */
    content: Type.Object(
      {
        /**
         * Blobs and signed manifests (`cloud-lite content import` writes here). Default:
         * `content/` beside the database file.
         */
        dir: Type.Optional(Type.String({ minLength: 1 })),
      },
      { additionalProperties: false, default: {} },
    ),
    /** Rental domain: deposits, fees, hold window, throttling, payment provider (rental/config.ts). */
    rental: RentalConfigSchema,
    /**
     * Outgoing mail (notifications/mailer.ts): account messages, renter notifications, alerts.
     * Absent (the default): nothing is mailed, messages are written to the log. Environment:
     * `CLOUD_LITE_SMTP_HOST`, `_PORT`, `_SECURE`, `_USER`, `_PASSWORD`, `_PASSWORD_FILE`, `_FROM`.
     */
    smtp: Type.Optional(SmtpConfigSchema),
    /** Alerts for operators: thresholds, reminders, the signed webhook, e-mail (alerts/config.ts). */
    alerts: AlertsConfigSchema,
    /** The renter's map page: tile source, attribution, coordinate system, directions (map-config.ts). */
    map: MapConfigSchema,
    /** Renter e-mail: reminder times, the time zone of its dates, retries (notifications/config.ts). */
    notifications: NotificationsConfigSchema,
  },
  { additionalProperties: false },
);

export type HubConfig = Static<typeof HubConfigSchema>;

const ENV_PREFIX = 'CLOUD_LITE_';

/** The store's keys are set one by one from the environment (`store` itself is an object). */
const STORE_ENV: Record<string, 'kind' | 'url' | 'poolSize'> = {
  CLOUD_LITE_STORE_KIND: 'kind',
  CLOUD_LITE_STORE_URL: 'url',
  CLOUD_LITE_STORE_POOL_SIZE: 'poolSize',
};

/** The SMTP settings from the environment, key by key (`smtp` is an object). */
const SMTP_ENV: Record<string, keyof typeof SmtpConfigSchema.properties> = {
  CLOUD_LITE_SMTP_HOST: 'host',
  CLOUD_LITE_SMTP_PORT: 'port',
  CLOUD_LITE_SMTP_SECURE: 'secure',
  CLOUD_LITE_SMTP_USER: 'user',
  CLOUD_LITE_SMTP_PASSWORD: 'password',
  CLOUD_LITE_SMTP_PASSWORD_FILE: 'passwordFile',
  CLOUD_LITE_SMTP_FROM: 'from',
};

function envName(key: string): string {
  return ENV_PREFIX + key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

/**
 * Builds the configuration from an optional JSON file and `CLOUD_LITE_*` environment
 * variables (environment wins; `CLOUD_LITE_PORT`, `CLOUD_LITE_ADMIN_TOKEN`, ...).
 * Throws ConfigError naming the offending key for an unknown key, a wrong type or a
 * missing required value.
 */
export function loadConfig(opts: {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Partial<HubConfig>;
}): HubConfig {
  let raw: Record<string, unknown> = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `cannot read configuration file ${opts.file}: ${(err as Error).message}`,
      );
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new Error('the top level must be an object');
      }
      raw = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(
        `configuration file ${opts.file} is not valid JSON: ${(err as Error).message}`,
      );
    }
  }
  const keys = Object.keys(HubConfigSchema.properties);
  const byEnv = new Map(keys.map((k) => [envName(k), k]));
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const storeKey = STORE_ENV[name];
    if (storeKey) {
      const store = { ...((raw.store as Record<string, unknown> | undefined) ?? {}) };
      store[storeKey] = storeKey === 'poolSize' && /^[0-9]+$/.test(value) ? Number(value) : value;
      raw.store = store;
      continue;
    }
    const smtpKey = SMTP_ENV[name];
    if (smtpKey) {
      const smtp = { ...((raw.smtp as Record<string, unknown> | undefined) ?? {}) };
      smtp[smtpKey] = Value.Convert(SmtpConfigSchema.properties[smtpKey], value);
      raw.smtp = smtp;
      continue;
    }
    const key = byEnv.get(name);
    if (!key)
      throw new ConfigError(
        `unknown environment variable ${name}; known: ${[...byEnv.keys(), ...Object.keys(STORE_ENV), ...Object.keys(SMTP_ENV)].join(', ')}`,
      );
    const schema = HubConfigSchema.properties[key as keyof HubConfig];
    raw[key] =
      schema.type === 'integer'
        ? Value.Convert(schema, value)
        : schema.type === 'array'
          ? value
              .split(',')
              .map((v) => v.trim())
              .filter((v) => v !== '')
          : value;
  }
  Object.assign(raw, opts.overrides ?? {});
  return validateConfig(raw);
}

/** The web origin of `publicUrl` (`wss://hub.example/kiosk` -> `https://hub.example`), if set. */
export function publicOrigin(config: HubConfig): string | undefined {
  if (!config.publicUrl) return undefined;
  const u = new URL(config.publicUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
  return u.origin;
}

/** The content origin's directory: `content.dir`, or `content/` beside the database. */
export function contentDir(config: HubConfig): string {
  return config.content.dir ?? path.join(path.dirname(config.databasePath), 'content');
}

/** Applies defaults and validates; throws ConfigError naming the first bad key. */
export function validateConfig(raw: Record<string, unknown>): HubConfig {
  for (const key of Object.keys(raw)) {
    if (!(key in HubConfigSchema.properties)) {
      throw new ConfigError(`unknown configuration key "${key}"; check its spelling`);
    }
  }
  const withDefaults = Value.Default(HubConfigSchema, structuredClone(raw)) as Record<
    string,
    unknown
  >;
  const first = Value.Errors(HubConfigSchema, withDefaults).First();
  if (first) {
    const key = first.path.replace(/^\//, '') || '(root)';
    const got = withDefaults[key];
    throw new ConfigError(
      `configuration key "${key}" is invalid: ${first.message}` +
        (got === undefined ? ' (missing)' : ` (got ${JSON.stringify(got)})`),
    );
  }
  const config = withDefaults as HubConfig;
  if (config.publicUrl !== undefined && !/^(https?|wss?):\/\/[^/\s]+/.test(config.publicUrl))
    throw new ConfigError(
      `configuration key "publicUrl" is invalid: "${config.publicUrl}" is not an http(s) or ws(s) URL`,
    );
  if (config.smtp?.password !== undefined && config.smtp.passwordFile !== undefined)
    throw new ConfigError(
      'configuration keys "smtp/password" and "smtp/passwordFile" are both set; keep one',
    );
  checkMapConfig(config.map);
  try {
    // The zone list first: a DateTimeFormat is the authority (it also takes aliases such as
    // US/Eastern) but loads ~4.5 MB of ICU's locale data into the idle hub's RSS; the list of
    // canonical zones costs 0.2 MB. Only a name not on the list is asked of DateTimeFormat.
    const zone = config.notifications.timeZone;
    if (zone !== 'UTC' && !Intl.supportedValuesOf('timeZone').includes(zone))
      new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    throw new ConfigError(
      `configuration key "notifications/timeZone" is invalid: "${config.notifications.timeZone}" is not an IANA time zone (e.g. Europe/Berlin, Asia/Shanghai)`,
    );
  }
  const { store } = config;
  if (store.kind === 'postgres' && !/^postgres(ql)?:\/\/\S*$/.test(store.url ?? ''))
    throw new ConfigError(
      store.url === undefined
        ? 'configuration key "store/url" is missing: store.kind postgres needs a URL like postgres://user:password@host:5432/database'
        : 'configuration key "store/url" is invalid: it must be a postgres:// or postgresql:// URL',
    );
  if (store.kind === 'sqlite' && store.url !== undefined)
    throw new ConfigError(
      'configuration key "store/url" is for store.kind postgres; the SQLite store lives in databasePath',
    );
  for (const entry of config.trustProxy) {
    if (!isProxyAddress(entry))
      throw new ConfigError(
        `configuration key "trustProxy" is invalid: "${entry}" is not an IP address, a CIDR range ` +
          '(10.0.0.0/8, fd00::/8) or one of loopback, linklocal, uniquelocal',
      );
  }
  return config;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An entry fastify's trustProxy (proxy-addr) accepts: a name, an address, or address/prefix. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [addr, prefix, ...rest] = entry.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^[0-9]{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
