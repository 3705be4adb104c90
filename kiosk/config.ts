import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { CodedError } from '../common/coded-error.js';
import {
  type DeviceName,
  deviceVariants,
  type KioskConfig,
  KioskConfigSchema,
} from './config/schema.js';

export type { DeviceName, HardwareConfigT, HubConfigT, KioskConfig } from './config/schema.js';
export { KioskConfigSchema } from './config/schema.js';

/** The configuration file is missing, unreadable, not JSON, or does not match the schema. */
export class ConfigError extends CodedError<'ECONFIG'> {
  constructor(
    message: string,
    /** The file the configuration came from (or `<env>` / `<object>`). */
    readonly file: string,
    /** JSON-pointer-like key path of the offending value, e.g. `/hub/url`; '' for the file. */
    readonly keyPath: string,
  ) {
    super('ECONFIG', message);
  }
}

/**
 * Environment overrides: `KIOSKD_<NAME>` -> key path. Applied after the file is read,
 * before validation, so a bad override is reported like a bad file value.
 */
export const ENV_OVERRIDES: Record<string, { path: string[]; type: 'string' | 'number' }> = {
  KIOSKD_KIOSK_ID: { path: ['kioskId'], type: 'string' },
  KIOSKD_DATA_DIR: { path: ['dataDir'], type: 'string' },
  KIOSKD_HUB_URL: { path: ['hub', 'url'], type: 'string' },
  KIOSKD_HUB_SECRET: { path: ['hub', 'secret'], type: 'string' },
  KIOSKD_HUB_SECRET_FILE: { path: ['hub', 'secretFile'], type: 'string' },
  KIOSKD_HUB_PUBLIC_KEY_FILE: { path: ['hub', 'publicKeyFile'], type: 'string' },
  KIOSKD_HUB_CA_FILE: { path: ['hub', 'caFile'], type: 'string' },
  KIOSKD_SLOTS: { path: ['slots', 'count'], type: 'number' },
  KIOSKD_LOG_LEVEL: { path: ['logLevel'], type: 'string' },
  KIOSKD_MAINTENANCE_SOCKET: { path: ['maintenanceSocket'], type: 'string' },
};

const check = TypeCompiler.Compile(KioskConfigSchema);

export interface LoadConfigOptions {
  /** Environment to read `KIOSKD_*` overrides from; default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Reads a JSON configuration file, applies `KIOSKD_*` environment overrides, fills
 * defaults and validates. Throws ConfigError naming the file and the key path.
 * Synchronous: configuration is read once at start-up.
 */
export function loadConfig(file: string, opts: LoadConfigOptions = {}): KioskConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `cannot read configuration file ${file}: ${(err as Error).message}; pass --config <file>`,
      file,
      '',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `configuration file ${file} is not valid JSON: ${(err as Error).message}`,
      file,
      '',
    );
  }
  return parseConfig(raw, { ...opts, source: file });
}

/** Validates an already-parsed configuration object (see loadConfig). */
export function parseConfig(
  raw: unknown,
  opts: LoadConfigOptions & { source?: string } = {},
): KioskConfig {
  const source = opts.source ?? '<object>';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`configuration in ${source} must be a JSON object`, source, '');
  }
  const value = structuredClone(raw) as Record<string, unknown>;
  applyEnv(value, opts.env ?? process.env, source);
  const filled = Value.Default(KioskConfigSchema, value);
  if (!check.Check(filled)) {
    const err = firstError(filled);
    throw new ConfigError(
      `invalid configuration in ${source}: ${err.path || '/'}: ${err.message}`,
      source,
      err.path,
    );
  }
  const cfg = filled as KioskConfig;
  exactlyOne(cfg, 'secret', 'secretFile', source);
  exactlyOne(cfg, 'publicKeyPem', 'publicKeyFile', source);
  if (cfg.hub.backoff.capMs < cfg.hub.backoff.baseMs) {
    throw new ConfigError(
      `invalid configuration in ${source}: /hub/backoff/capMs must be >= baseMs`,
      source,
      '/hub/backoff/capMs',
    );
  }
  return cfg;
}

/** Hub credentials with files read: the secret, the hub's public key (PEM), extra trusted CAs. */
export interface HubCredentials {
  secret: string;
  publicKeyPem: string;
  /** `hub.caFile`'s certificates (PEM), when set. */
  caPem?: string;
}

/** Reads `hub.secretFile` / `hub.publicKeyFile` / `hub.caFile` (relative to `baseDir`) when set. */
export function resolveHubCredentials(cfg: KioskConfig, baseDir = process.cwd()): HubCredentials {
  const read = (f: string, key: string) => {
    const p = path.resolve(baseDir, f);
    try {
      return readFileSync(p, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `cannot read ${key} ${p}: ${(err as Error).message}; re-enrol the kiosk or fix the path`,
        p,
        `/hub/${key}`,
      );
    }
  };
  const caPem = cfg.hub.caFile ? read(cfg.hub.caFile, 'caFile') : undefined;
  if (caPem !== undefined && !caPem.includes('-----BEGIN CERTIFICATE-----')) {
    const p = path.resolve(baseDir, cfg.hub.caFile!);
    throw new ConfigError(`caFile ${p} holds no PEM certificate`, p, '/hub/caFile');
  }
  return {
    secret: cfg.hub.secret ?? read(cfg.hub.secretFile!, 'secretFile'),
    publicKeyPem: cfg.hub.publicKeyPem ?? `${read(cfg.hub.publicKeyFile!, 'publicKeyFile')}\n`,
    ...(caPem ? { caPem } : {}),
  };
}

function exactlyOne(
  cfg: KioskConfig,
  a: 'secret' | 'publicKeyPem',
  b: 'secretFile' | 'publicKeyFile',
  source: string,
): void {
  const n = Number(cfg.hub[a] !== undefined) + Number(cfg.hub[b] !== undefined);
  if (n !== 1) {
    throw new ConfigError(
      `invalid configuration in ${source}: /hub: set exactly one of /hub/${a} and /hub/${b}`,
      source,
      `/hub/${b}`,
    );
  }
}

function applyEnv(
  value: Record<string, unknown>,
  env: Record<string, string | undefined>,
  source: string,
): void {
  for (const [name, spec] of Object.entries(ENV_OVERRIDES)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    let obj = value;
    for (const key of spec.path.slice(0, -1)) {
      const next = obj[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) obj[key] = {};
      obj = obj[key] as Record<string, unknown>;
    }
    const parsed = spec.type === 'number' ? Number(v) : v;
    if (spec.type === 'number' && !Number.isFinite(parsed)) {
      throw new ConfigError(`environment ${name}=${v} is not a number`, source, name);
    }
    obj[spec.path.at(-1)!] = parsed;
  }
}

/** The most useful error: for a device union, the errors of the variant its `driver` names. */
function firstError(value: unknown): { path: string; message: string } {
  const first = check.Errors(value).First();
  if (!first) return { path: '', message: 'invalid' };
  const m = /^\/hardware\/(\w+)$/.exec(first.path);
  if (m && m[1]! in deviceVariants) {
    const dev = m[1] as DeviceName;
    const cfg = (value as { hardware: Record<string, unknown> }).hardware[dev];
    const driver = (cfg as { driver?: unknown } | undefined)?.driver;
    if (driver !== 'real' && driver !== 'sim') {
      return {
        path: `${first.path}/driver`,
        message: `expected "real" or "sim", got ${JSON.stringify(driver)}`,
      };
    }
    const sub = Value.Errors(deviceVariants[dev][driver], cfg).First();
    if (sub) return { path: `${first.path}${sub.path}`, message: sub.message };
  }
  if (first.message === 'Unexpected property') {
    return { path: first.path, message: 'unknown key (typo?)' };
  }
  if (first.value === undefined) return { path: first.path, message: 'missing required key' };
  return { path: first.path, message: first.message };
}

/** Path of the kiosk's SQLite database inside `dataDir`. */
export function databasePath(cfg: KioskConfig): string {
  return path.join(cfg.dataDir, 'kioskd.sqlite');
}
