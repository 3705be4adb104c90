/**
 * Remote configuration (docs/remote-operations.md, ApplyConfig in docs/protocol.md): the
 * allow-list of kioskd settings the hub may change, each with its schema and whether kioskd
 * applies it at once or at its next start. kioskd's own configuration schema
 * (kiosk/config/schema.ts) is built from these very schemas, and the hub checks an operator's
 * settings with `checkRemoteSettings` before sending them; the kiosk checks them again with
 * the same function, then its whole configuration with them merged in. One definition, no copy.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { Feature } from './features.js';
import { StrictObject, StringEnum } from './schemas/common.js';

/** kioskd's log levels (pino's, with `silent`). */
export const KioskLogLevelSetting = StringEnum([
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const);

/** One pre-staging target: keep `count` disks `ready` with this content version. */
export const PrestageEntrySetting = StrictObject({
  contentId: Type.String({ minLength: 1 }),
  version: Type.String({ minLength: 1 }),
  /** Disks kept `ready` with this content. */
  count: Type.Integer({ minimum: 1, maximum: 255 }),
  writeProtect: Type.Boolean({ default: true }),
});

/** When kioskd puts a changed setting into effect. */
export type SettingApplies = 'now' | 'restart';

interface RemoteSetting {
  schema: TSchema;
  applies: SettingApplies;
  /** One line for the docs and the operator pages. */
  description: string;
  /**
   * The protocol feature (protocol/features.ts) a kiosk lists in its Boot to apply this key:
   * `apply-config` for the keys that came with remote configuration. A key added later names a
   * feature of its own, so that a kiosk whose software predates the key is never sent it (it
   * would refuse the whole version, ConfigRejected EINVALID).
   */
  feature: Feature;
}

/**
 * The settings the hub may change, by their dotted path in kioskd's configuration file.
 * Anything else (hub URL and credentials, hardware, data paths, slot count) stays local.
 */
export const REMOTE_SETTINGS = {
  logLevel: {
    schema: KioskLogLevelSetting,
    applies: 'now',
    description: 'kioskd log level',
    feature: 'apply-config',
  },
  'cloning.prestage': {
    schema: Type.Array(PrestageEntrySetting, { maxItems: 64 }),
    applies: 'restart',
    description: 'disks kept ready in advance per content version (pre-staging targets)',
    feature: 'apply-config',
  },
  'cloning.prestageIntervalSeconds': {
    schema: Type.Integer({ minimum: 1, maximum: 86_400 }),
    applies: 'restart',
    description: 'how often pre-staging looks for a shortfall (s)',
    feature: 'apply-config',
  },
  'cloning.wipeMode': {
    schema: StringEnum(['quick', 'full'] as const),
    applies: 'restart',
    description: 'how a returned writable disk is wiped (`full` overwrites every byte)',
    feature: 'apply-config',
  },
  'cloning.concurrency': {
    schema: Type.Integer({ minimum: 1, maximum: 16 }),
    applies: 'restart',
    description: 'disks cloned at once',
    feature: 'apply-config',
  },
  'content.maxBytes': {
    schema: Type.Integer({ minimum: 1 }),
    applies: 'restart',
    description: 'upper bound of the content cache (bytes)',
    feature: 'apply-config',
  },
  'content.parallelDownloads': {
    schema: Type.Integer({ minimum: 1, maximum: 32 }),
    applies: 'restart',
    description: 'content blobs downloaded at once',
    feature: 'apply-config',
  },
  'reservations.expiryCheckSeconds': {
    schema: Type.Number({ minimum: 0.05, maximum: 3600 }),
    applies: 'restart',
    description: 'how often held disks whose hold passed are released (s)',
    feature: 'apply-config',
  },
} as const satisfies Record<string, RemoteSetting>;

export type RemoteSettingKey = keyof typeof REMOTE_SETTINGS;
export const REMOTE_SETTING_KEYS = Object.keys(REMOTE_SETTINGS) as RemoteSettingKey[];

/** A set of remote settings: any of the allow-listed keys, each with a valid value. */
export const RemoteSettingsSchema = Type.Partial(
  Type.Object(
    Object.fromEntries(REMOTE_SETTING_KEYS.map((k) => [k, REMOTE_SETTINGS[k].schema])) as {
      [K in RemoteSettingKey]: (typeof REMOTE_SETTINGS)[K]['schema'];
    },
  ),
  { additionalProperties: false },
);
export type RemoteSettings = Static<typeof RemoteSettingsSchema>;

/**
 * The settings as they travel in ApplyConfig: an object of at most 64 keys. Left open on the
 * wire so that a kiosk that does not know a key refuses it with a ConfigRejected event naming
 * it (a newer hub, an older kioskd) rather than a bare CALLERROR.
 */
export const WireRemoteSettings = Type.Record(Type.String({ maxLength: 128 }), Type.Unknown(), {
  maxProperties: 64,
});

/**
 * The features a kiosk must list to take ApplyConfig with `settings`: `apply-config` (the
 * command) and the feature of each key (unknown keys are checkRemoteSettings' business).
 */
export function settingsFeatures(settings: Readonly<Record<string, unknown>>): Feature[] {
  const out = new Set<Feature>(['apply-config']);
  for (const key of Object.keys(settings))
    if (key in REMOTE_SETTINGS) out.add(REMOTE_SETTINGS[key as RemoteSettingKey].feature);
  return [...out];
}

/** One problem with one setting. `key` is '' for the object itself. */
export interface SettingError {
  key: string;
  message: string;
}

const checks = new Map<string, ReturnType<typeof TypeCompiler.Compile>>(
  REMOTE_SETTING_KEYS.map((k) => [k, TypeCompiler.Compile(REMOTE_SETTINGS[k].schema)]),
);

/**
 * Checks a settings object against the allow-list and each setting's schema (defaults filled,
 * e.g. a prestage entry's `writeProtect`). Every error, one per key, with a message an
 * operator can act on.
 */
export function checkRemoteSettings(
  input: unknown,
): { ok: true; settings: RemoteSettings } | { ok: false; errors: SettingError[] } {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { ok: false, errors: [{ key: '', message: 'settings must be an object' }] };
  const errors: SettingError[] = [];
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(input)) {
    const check = checks.get(key);
    if (!check) {
      errors.push({
        key,
        message: `not a setting that can be changed remotely (allowed: ${REMOTE_SETTING_KEYS.join(', ')})`,
      });
      continue;
    }
    const value = Value.Default(
      REMOTE_SETTINGS[key as RemoteSettingKey].schema,
      structuredClone(raw),
    );
    const first = check.Errors(value).First();
    if (first) {
      errors.push({ key, message: `${first.path ? `${first.path}: ` : ''}${first.message}` });
      continue;
    }
    out[key] = value;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, settings: out as RemoteSettings };
}

/** Reads a dotted path (`cloning.wipeMode`) from a configuration object. */
export function getSetting(config: unknown, key: string): unknown {
  let o: unknown = config;
  for (const part of key.split('.')) {
    if (typeof o !== 'object' || o === null) return undefined;
    o = (o as Record<string, unknown>)[part];
  }
  return o;
}

/** Writes a dotted path into a configuration object (creating the objects on the way). */
export function setSetting(config: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = config;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts.at(-1)!] = value;
}
