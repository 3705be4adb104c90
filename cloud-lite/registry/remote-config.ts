/**
 * Remote configuration (docs/remote-operations.md): operators keep fleet-default and per-kiosk
 * settings from the allow-list (protocol/remote-config.ts, the schemas kioskd's own
 * configuration is built from), each change versioned from one sequence (the hub's own: a version a kiosk reports never moves it,
 * reported-config.ts) and audited with who.
 * A kiosk's desired settings are the fleet default with its own on top; its desired version the
 * larger of the two versions. A change sends ApplyConfig (signed) to every kiosk it concerns, in
 * the transaction that records it (delivered at once, or when the kiosk reconnects); a kiosk
 * that boots reporting another version than its desired one gets it again, unless it refused
 * that version. What kiosks run or refused comes from Boot, Heartbeat, ConfigApplied and
 * ConfigRejected (kept in kiosk_reported_state).
 */

import {
  type ConfigState,
  canonicalJson,
  checkRemoteSettings,
  kioskFeatures,
  REMOTE_SETTING_KEYS,
  REMOTE_SETTINGS,
  settingsFeatures,
} from '../../protocol/index.js';
import { type Actor, audit, SYSTEM } from '../audit.js';
import { HubError, KioskLacksFeatureError, NotFoundError } from '../errors.js';
import type { KioskCommands } from '../hub/kiosk-commands.js';
import type { Logger } from '../log.js';
import type {
  KioskRecord,
  KioskReportedStateRecord,
  RemoteConfigRecord,
  Store,
  Tx,
} from '../store/types.js';
import { FLEET_SCOPE } from '../store/types.js';
import { recordReportedConfig } from './reported-config.js';

export interface RemoteConfigDeps {
  store: Store;
  kiosks: KioskCommands;
  logger: Logger;
  /** How long an ApplyConfig waits for an offline kiosk before it expires (seconds, at most 24 h). */
  deadlineSeconds: number;
  now?: () => Date;
}

export interface DesiredConfig {
  version: number;
  settings: Record<string, unknown>;
}

/** Where a kiosk stands: in sync, waiting for the kiosk, refused, or running it after a restart. */
export type ConfigSyncState = 'in_sync' | 'restart_pending' | 'pending' | 'rejected' | 'unknown';

export interface KioskConfigView {
  kioskId: string;
  desired: DesiredConfig;
  /** The kiosk's own settings (null: none, the fleet default only). */
  own: RemoteConfigRecord | null;
  applied: {
    version: number;
    restartPending: boolean;
    reportedAt: string;
  } | null;
  rejected: {
    version: number;
    code: string;
    reason: string;
    errors: Array<{ key: string; message: string }>;
  } | null;
  state: ConfigSyncState;
}

/** A kiosk's desired settings: the fleet default with its own on top. */
export function desiredFor(
  fleet: RemoteConfigRecord | undefined,
  own: RemoteConfigRecord | undefined,
): DesiredConfig {
  return {
    version: Math.max(fleet?.version ?? 0, own?.version ?? 0),
    settings: { ...(fleet?.settings ?? {}), ...(own?.settings ?? {}) },
  };
}

function syncState(
  desired: DesiredConfig,
  r: KioskReportedStateRecord | undefined,
): ConfigSyncState {
  if (!r) return desired.version === 0 ? 'in_sync' : 'unknown';
  if (r.rejectedVersion === desired.version) return 'rejected';
  if (r.appliedVersion !== desired.version) return 'pending';
  return r.restartPending ? 'restart_pending' : 'in_sync';
}

export class RemoteConfigService {
  constructor(private readonly deps: RemoteConfigDeps) {}

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** Listens for Boots (the version a kiosk runs) and the kiosks' reports: ConfigApplied, ConfigRejected (audited). */
  attach(): void {
    const { kiosks } = this.deps;
    kiosks.onKioskBooted((kioskId, boot) => {
      this.kioskBooted(kioskId, boot.config, boot.features).catch((err: Error) =>
        this.deps.logger.error(
          { err: err.message, kioskId },
          'sending a booted kiosk its desired configuration failed',
        ),
      );
    });
    kiosks.onEvent('ConfigApplied', async (ev, tx) => {
      const restartPending = ev.data.restartRequired.length > 0;
      const known = await recordReportedConfig(tx, this.deps.logger, ev.kioskId, 'ConfigApplied', {
        version: ev.data.version,
        restartPending,
        at: ev.at,
      });
      if (!known) return;
      await audit(
        tx,
        { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId },
        this.now().toISOString(),
        'config.applied',
        ev.kioskId,
        {
          version: ev.data.version,
          restartRequired: ev.data.restartRequired,
        },
      );
    });
    kiosks.onEvent('ConfigRejected', async (ev, tx) => {
      await tx.remoteConfig.reportRejected(ev.kioskId, {
        version: ev.data.version,
        code: ev.data.code,
        reason: ev.data.reason,
        errors: ev.data.errors ?? null,
        at: ev.at,
      });
      this.deps.logger.warn(
        {
          kioskId: ev.kioskId,
          version: ev.data.version,
          code: ev.data.code,
          reason: ev.data.reason,
        },
        'a kiosk refused its remote configuration',
      );
      await audit(
        tx,
        { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId },
        this.now().toISOString(),
        'config.rejected',
        ev.kioskId,
        {
          version: ev.data.version,
          code: ev.data.code,
          reason: ev.data.reason,
        },
      );
    });
  }

  /**
   * A kiosk booted reporting `reported` (Boot `config`, which a kiosk listing `apply-config`
   * sends; without it, nothing is sent now: a Boot costs no reads then): a kiosk whose Boot
   * lists `apply-config` (its features decide, not the `config` it reports) gets its desired
   * settings when it runs another version and has not refused it and no ApplyConfig for it is
   * on its way. Settings left out of the last ApplyConfig it was sent because it lacked their
   * feature (`configLacking`) are completed when its Boot lists one of those features: its own
   * settings get a new version (the same settings; `config.completed`, by the hub) and it gets
   * ApplyConfig with it, whatever version it runs (kioskd takes only a newer version).
   */
  async kioskBooted(
    kioskId: string,
    reported: ConfigState | undefined,
    features?: readonly string[] | null,
  ): Promise<void> {
    if (!reported) return;
    const listed = kioskFeatures(features ?? undefined);
    // Most Boots find no desired configuration, or the one the kiosk reports it runs: told by
    // one read outside any transaction (a fleet booting at once takes no predicate locks). A
    // setting left out can only be one whose feature is not `apply-config`, and only when this
    // Boot lists it (none such today: no more reads then).
    const wanted = await this.deps.store.read((r) => this.desired(r, kioskId));
    const mayComplete = settingsFeatures(wanted.settings).some(
      (f) => f !== 'apply-config' && listed.has(f),
    );
    if (wanted.version === 0 || (wanted.version === reported.version && !mayComplete)) return;
    await this.deps.store.transaction(async (tx) => {
      const k = await tx.kiosks.get(kioskId);
      if (!k || !kioskFeatures(k.features).has('apply-config')) return;
      let desired = await this.desired(tx, kioskId);
      if (desired.version === 0) return;
      const r = await tx.remoteConfig.reported(kioskId);
      const has = kioskFeatures(k.features) as ReadonlySet<string>;
      if (r?.configLacking?.some((f) => has.has(f))) {
        desired = await this.complete(tx, kioskId, r.configLacking);
        await this.send(tx, k, desired);
        return;
      }
      if (desired.version === reported.version) return;
      if (r?.rejectedVersion === desired.version) return;
      const outstanding = await tx.commands.listOutstanding(kioskId);
      if (
        outstanding.some(
          (c) =>
            c.action === 'ApplyConfig' &&
            (c.payload as { version?: unknown }).version === desired.version,
        )
      )
        return;
      await this.send(tx, k, desired);
    });
  }

  private async desired(tx: Pick<Tx, 'remoteConfig'>, kioskId: string): Promise<DesiredConfig> {
    return desiredFor(await tx.remoteConfig.get(FLEET_SCOPE), await tx.remoteConfig.get(kioskId));
  }

  /**
   * Gives kiosk `kioskId`'s own settings (none: `{}`) a new version, unchanged, so that the
   * settings left out for `lacking` reach it in an ApplyConfig it takes (a newer version).
   */
  private async complete(tx: Tx, kioskId: string, lacking: string[]): Promise<DesiredConfig> {
    const own = await tx.remoteConfig.get(kioskId);
    const at = this.now().toISOString();
    const who = SYSTEM('remote-config');
    const rec: RemoteConfigRecord = {
      scope: kioskId,
      settings: own?.settings ?? {},
      version: await tx.remoteConfig.nextVersion(),
      updatedBy: who.actor,
      updatedAt: at,
    };
    await tx.remoteConfig.put(rec);
    await audit(tx, who, at, 'config.completed', kioskId, {
      scope: kioskId,
      version: rec.version,
      features: lacking,
      previous: own ? { version: own.version } : null,
    });
    this.deps.logger.info(
      { kioskId, version: rec.version, features: lacking },
      'remote configuration completed: the kiosk now lists features settings were left out for',
    );
    return desiredFor(await tx.remoteConfig.get(FLEET_SCOPE), rec);
  }

  /**
   * Records ApplyConfig with `desired` for kiosk `k`, leaving out the keys whose feature its
   * last Boot did not list (the fleet default may carry keys newer than its software), and
   * which features it lacked for them (`configLacking`; completed at a Boot that lists one).
   */
  private async send(tx: Tx, k: KioskRecord, desired: DesiredConfig) {
    const listed = k.lastBootAt === null ? undefined : kioskFeatures(k.features);
    const lacking = new Set<string>();
    const settings = listed
      ? Object.fromEntries(
          Object.entries(desired.settings).filter(([key]) => {
            const missing = settingsFeatures({ [key]: true }).filter((f) => !listed.has(f));
            for (const f of missing) lacking.add(f);
            return missing.length === 0;
          }),
        )
      : desired.settings;
    // A booted kiosk has reported (its Boot's `config`): its row holds the mark.
    if (listed)
      await tx.remoteConfig.setConfigLacking(k.id, lacking.size > 0 ? [...lacking] : null);
    return this.deps.kiosks.send(
      tx,
      k.id,
      'ApplyConfig',
      { version: desired.version, settings },
      new Date(this.now().getTime() + this.deps.deadlineSeconds * 1000),
    );
  }

  /**
   * Replaces the settings of `scope` (FLEET_SCOPE or a kiosk id) and sends every kiosk concerned
   * its new desired settings. INVALID_SETTINGS (400, `errors` per setting) when a setting is
   * not on the allow-list or its value is not one kioskd takes; CONFIG_CHANGED (409) when
   * `expectedVersion` is given and the scope is at another version; NOT_FOUND for an unknown
   * or revoked kiosk.
   */
  async set(
    scope: string,
    input: unknown,
    who: Actor,
    expectedVersion?: number,
  ): Promise<RemoteConfigRecord> {
    const checked = checkRemoteSettings(input);
    if (!checked.ok)
      throw new HubError(
        'INVALID_SETTINGS',
        `invalid settings: ${checked.errors.map((e) => `${e.key || '(settings)'}: ${e.message}`).join('; ')}`,
        400,
        { errors: checked.errors },
      );
    const settings = checked.settings as Record<string, unknown>;
    return this.deps.store.transaction(async (tx) => {
      const before = await tx.remoteConfig.get(scope);
      if (scope !== FLEET_SCOPE) {
        const k = await tx.kiosks.get(scope);
        if (!k || k.revokedAt) throw new NotFoundError(`kiosk ${scope} does not exist`);
        // A kiosk's own settings it cannot apply are refused now, as any command it cannot take
        // (a kiosk that never booted is judged at its first Boot; the fleet default waits).
        // Only what the change sets counts: settings removed (`{}` clears them all) or kept as
        // they were need nothing of the kiosk, so its stored settings can always be cleared.
        if (k.lastBootAt !== null) {
          const listed = kioskFeatures(k.features);
          const changed = changedSettings(before?.settings ?? {}, settings);
          const lacking =
            Object.keys(changed).length === 0
              ? []
              : settingsFeatures(changed).filter((f) => !listed.has(f));
          if (lacking.length > 0) throw new KioskLacksFeatureError(k.id, 'ApplyConfig', lacking);
        }
      }
      if (expectedVersion !== undefined && (before?.version ?? 0) !== expectedVersion)
        throw new HubError(
          'CONFIG_CHANGED',
          `the settings are at version ${before?.version ?? 0}, not ${expectedVersion}: someone changed them; reload and edit again`,
          409,
        );
      const at = this.now().toISOString();
      const rec: RemoteConfigRecord = {
        scope,
        settings,
        version: await tx.remoteConfig.nextVersion(),
        updatedBy: who.actor,
        updatedAt: at,
      };
      await tx.remoteConfig.put(rec);
      await audit(tx, who, at, 'config.set', scope === FLEET_SCOPE ? 'fleet' : scope, {
        scope,
        version: rec.version,
        settings,
        previous: before ? { version: before.version, settings: before.settings } : null,
      });
      // A kiosk whose software does not list `apply-config` gets its settings once it boots
      // with software that does (kioskBooted).
      const targets = (
        scope === FLEET_SCOPE
          ? (await tx.kiosks.list()).filter((k) => !k.revokedAt)
          : [await tx.kiosks.get(scope)]
      ).filter(takesConfig);
      for (const k of targets) await this.send(tx, k, await this.desired(tx, k.id));
      this.deps.logger.info(
        { scope, version: rec.version, kiosks: targets.length, by: who.actor },
        'remote configuration changed',
      );
      return rec;
    });
  }

  /** One kiosk: its own settings, the desired ones, what it runs or refused. */
  async kiosk(kioskId: string): Promise<KioskConfigView> {
    return this.deps.store.transaction(async (tx) => {
      const k = await tx.kiosks.get(kioskId);
      if (!k) throw new NotFoundError(`kiosk ${kioskId} does not exist`);
      const fleet = await tx.remoteConfig.get(FLEET_SCOPE);
      const own = await tx.remoteConfig.get(kioskId);
      return view(kioskId, desiredFor(fleet, own), own, await tx.remoteConfig.reported(kioskId));
    });
  }

  /** The fleet default and every kiosk's desired vs applied version. */
  async fleet(): Promise<{ fleet: RemoteConfigRecord | null; kiosks: KioskConfigView[] }> {
    return this.deps.store.transaction(async (tx) => {
      const all = await tx.remoteConfig.list();
      const byScope = new Map(all.map((r) => [r.scope, r]));
      const reported = new Map((await tx.remoteConfig.listReported()).map((r) => [r.kioskId, r]));
      const fleet = byScope.get(FLEET_SCOPE);
      const kiosks = (await tx.kiosks.list())
        .filter((k) => !k.revokedAt)
        .map((k) => {
          const own = byScope.get(k.id);
          return view(k.id, desiredFor(fleet, own), own, reported.get(k.id));
        });
      return { fleet: fleet ?? null, kiosks };
    });
  }
}

/** The settings of `next` that `before` does not hold with the same value. */
function changedSettings(
  before: Record<string, unknown>,
  next: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(next).filter(
      ([key, value]) => !(key in before) || canonicalJson(before[key]) !== canonicalJson(value),
    ),
  );
}

/**
 * Whether a kiosk's software takes ApplyConfig: its last Boot listed `apply-config`, or it never
 * booted (not known yet: the command waits, and its first Boot decides).
 */
function takesConfig(k: KioskRecord | undefined): k is KioskRecord {
  return (
    k !== undefined && (k.lastBootAt === null || kioskFeatures(k.features).has('apply-config'))
  );
}

function view(
  kioskId: string,
  desired: DesiredConfig,
  own: RemoteConfigRecord | undefined,
  r: KioskReportedStateRecord | undefined,
): KioskConfigView {
  const state = syncState(desired, r);
  return {
    kioskId,
    desired,
    own: own ?? null,
    applied: r
      ? { version: r.appliedVersion, restartPending: r.restartPending, reportedAt: r.reportedAt }
      : null,
    rejected:
      r?.rejectedVersion != null && r.rejectedVersion > r.appliedVersion
        ? {
            version: r.rejectedVersion,
            code: r.rejectedCode ?? '',
            reason: r.rejectedReason ?? '',
            errors: r.rejectedErrors ?? [],
          }
        : null,
    state,
  };
}

/** The allow-list as operators see it (GET /api/operator/config). */
export const SETTING_DESCRIPTIONS = REMOTE_SETTING_KEYS.map((key) => ({
  key,
  applies: REMOTE_SETTINGS[key].applies,
  description: REMOTE_SETTINGS[key].description,
}));
