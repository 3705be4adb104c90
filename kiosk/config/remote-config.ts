/**
 * Remote configuration on the kiosk (ApplyConfig, docs/protocol.md): the hub's settings live in
 * `<dataDir>/remote-config.json` (`{ version, settings, appliedAt }`) and are merged over the
 * configuration file (and its KIOSKD_* environment) when kioskd starts. ApplyConfig checks the
 * new settings (the shared allow-list, then the whole configuration with them merged), writes
 * the file atomically, puts into effect what it can at once (the log level) and reports the
 * rest as waiting for a restart. A refused version changes nothing: kioskd keeps the file and
 * the settings it had, and says why in a ConfigRejected event.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type ConfigState,
  canonicalJson,
  checkRemoteSettings,
  getSetting,
  REMOTE_SETTING_KEYS,
  REMOTE_SETTINGS,
  type RemoteSettings,
  type SettingError,
  setSetting,
} from '../../protocol/index.js';
import { ConfigError, type KioskConfig, parseConfig } from '../config.js';
import type { CommandDeps, CommandHandler } from '../handlers/context.js';
import { verifySigned } from '../handlers/verify-signed.js';
import type { KioskLogger } from '../log.js';
import { writeAtomic } from './write-atomic.js';

export const REMOTE_CONFIG_FILE = 'remote-config.json';

export interface RemoteConfigFile {
  version: number;
  settings: RemoteSettings;
  appliedAt: string;
}

/** `<dataDir>/remote-config.json`. */
export function remoteConfigPath(cfg: KioskConfig): string {
  return path.join(cfg.dataDir, REMOTE_CONFIG_FILE);
}

/**
 * `base` with `settings` merged in, checked as a whole (parseConfig): throws ConfigError
 * naming the key path when the result is not a valid configuration.
 */
export function mergeSettings(base: KioskConfig, settings: RemoteSettings): KioskConfig {
  const doc = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(settings)) setSetting(doc, key, value);
  return parseConfig(doc, { source: 'the remote configuration', env: {} });
}

export interface LoadedRemoteConfig {
  /** The configuration kioskd runs with: `base` with the file's settings merged in. */
  config: KioskConfig;
  /** The file's version (0: no file, or it was not usable). */
  version: number;
  settings: RemoteSettings;
  /** Why the file was not used (kioskd then runs on `base`). */
  problem?: string;
}

/**
 * Reads `<dataDir>/remote-config.json` and merges it over `base`. A missing file is no
 * remote configuration; a file that cannot be read or no longer fits (a key this kioskd does
 * not know after a downgrade, a local change that conflicts) is ignored with `problem` set, so
 * kioskd always starts.
 */
export function loadRemoteConfig(base: KioskConfig): LoadedRemoteConfig {
  const file = remoteConfigPath(base);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { config: base, version: 0, settings: {} };
    return {
      config: base,
      version: 0,
      settings: {},
      problem: `cannot read ${file}: ${(err as Error).message}`,
    };
  }
  try {
    const doc = JSON.parse(text) as Partial<RemoteConfigFile>;
    const version = doc.version;
    if (!Number.isSafeInteger(version) || (version as number) < 1)
      throw new Error('it has no valid version');
    const checked = checkRemoteSettings(doc.settings);
    if (!checked.ok) throw new Error(formatErrors(checked.errors));
    return {
      config: mergeSettings(base, checked.settings),
      version: version as number,
      settings: checked.settings,
    };
  } catch (err) {
    return {
      config: base,
      version: 0,
      settings: {},
      problem: `${file} ignored: ${(err as Error).message}`,
    };
  }
}

function formatErrors(errors: SettingError[]): string {
  return errors.map((e) => (e.key ? `${e.key}: ${e.message}` : e.message)).join('; ');
}

/** The allow-listed keys whose values differ between two configurations. */
function changedKeys(a: KioskConfig, b: KioskConfig): string[] {
  return REMOTE_SETTING_KEYS.filter(
    (k) => canonicalJson(getSetting(a, k) ?? null) !== canonicalJson(getSetting(b, k) ?? null),
  );
}

export interface RemoteConfigDeps {
  /** The configuration file's settings (with KIOSKD_* applied), before any remote setting. */
  base: KioskConfig;
  /** What kioskd loaded at start (loadRemoteConfig(base)). */
  loaded: LoadedRemoteConfig;
  commandDeps: CommandDeps;
  /** Puts a log level into effect at once. */
  setLogLevel: (level: KioskConfig['logLevel']) => void;
  log: KioskLogger;
}

/** The ApplyConfig handler and the configuration state kioskd reports. */
export class RemoteConfig {
  /** The settings in effect now (started with, plus those applied at once since). */
  private running: KioskConfig;
  private version: number;
  private settings: RemoteSettings;
  /** The latest accepted configuration (what kioskd will run after a restart). */
  private accepted: KioskConfig;

  constructor(private readonly deps: RemoteConfigDeps) {
    this.running = deps.loaded.config;
    this.accepted = deps.loaded.config;
    this.version = deps.loaded.version;
    this.settings = deps.loaded.settings;
  }

  /** Reported in Boot and Heartbeat. */
  state(): ConfigState {
    return { version: this.version, restartPending: this.pendingRestart().length > 0 };
  }

  /** Accepted settings that differ from what runs (they need kioskd restarted). */
  pendingRestart(): string[] {
    return changedKeys(this.running, this.accepted);
  }

  readonly handle: CommandHandler<'ApplyConfig'> = (p, ctx) => {
    verifySigned(this.deps.commandDeps, 'ApplyConfig', p, ctx);
    const { outbox, clock } = this.deps.commandDeps;
    const refuse = (code: string, reason: string, errors?: SettingError[]) => {
      ctx.log.warn({ version: p.version, code, reason }, 'remote configuration refused');
      outbox.append('ConfigRejected', {
        commandId: p.commandId,
        version: p.version,
        code,
        reason: reason.slice(0, 1024),
        ...(errors ? { errors: errors.slice(0, 64) } : {}),
      });
      return { status: 'Rejected' as const, reason: `${code}: ${reason}`.slice(0, 1024) };
    };
    const checked = checkRemoteSettings(p.settings);
    if (p.version <= this.version) {
      if (
        p.version === this.version &&
        checked.ok &&
        canonicalJson(checked.settings) === canonicalJson(this.settings)
      )
        return { status: 'Accepted' }; // the same version again: nothing to do
      return refuse(
        'ESTALE',
        `version ${p.version} is not newer than version ${this.version}, which this kiosk runs`,
      );
    }
    if (!checked.ok) return refuse('EINVALID', formatErrors(checked.errors), checked.errors);
    let next: KioskConfig;
    try {
      next = mergeSettings(this.deps.base, checked.settings);
    } catch (err) {
      const e = err as ConfigError;
      const key = e instanceof ConfigError ? e.keyPath.replace(/^\//, '').replaceAll('/', '.') : '';
      return refuse('EINVALID', e.message, [{ key, message: e.message }]);
    }
    const file: RemoteConfigFile = {
      version: p.version,
      settings: checked.settings,
      appliedAt: clock.now().toISOString(),
    };
    try {
      writeAtomic(remoteConfigPath(this.deps.base), `${JSON.stringify(file, null, 2)}\n`);
    } catch (err) {
      return refuse('EWRITE', `cannot write the overrides file: ${(err as Error).message}`);
    }
    this.version = p.version;
    this.settings = checked.settings;
    this.accepted = next;
    // Put into effect what can be at once.
    for (const key of changedKeys(this.running, next)) {
      if (REMOTE_SETTINGS[key as keyof typeof REMOTE_SETTINGS].applies !== 'now') continue;
      if (key === 'logLevel') this.deps.setLogLevel(next.logLevel);
      setSetting(this.running as unknown as Record<string, unknown>, key, getSetting(next, key));
    }
    const restartRequired = this.pendingRestart();
    this.deps.log.info(
      { version: p.version, settings: Object.keys(checked.settings), restartRequired },
      restartRequired.length > 0
        ? 'remote configuration applied; some settings wait for kioskd to restart'
        : 'remote configuration applied',
    );
    outbox.append('ConfigApplied', { commandId: p.commandId, version: p.version, restartRequired });
    return { status: 'Accepted' };
  };
}
