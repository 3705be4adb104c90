/**
 * Staged rollouts of a kiosk image version (docs/updates.md). An operator names the version
 * and its RAUC bundle (a blob in the content store), the kiosks (default: every kiosk not
 * revoked, by id) and the waves, e.g. `1`, `10%`, `100%`: cumulative shares of the kiosks,
 * the first wave a canary. The hub sends InstallUpdate (signed) to the connected kiosks of
 * the waves started so far, follows each kiosk's UpdateStatus events, and:
 *
 *   - halts the rollout as soon as a wave's failures (`failed`, `rolled_back`) exceed
 *     `maxFailureRate` of the wave's kiosks, or, once the wave has settled (none of its kiosks
 *     sent and unfinished, at least one finished), of its finished kiosks;
 *   - otherwise starts the next wave when the current one has settled; kiosks still pending
 *     (offline) keep their place and get the update when they connect, also in later waves;
 *   - is `completed` when every kiosk of it has finished.
 *
 * A kiosk that was too busy to start installing before the deadline (`ETIMEDOUT`), or whose
 * command expired undelivered, goes back to `pending` and is sent again (at most 3 sends);
 * that is not a failure. Every change runs in a store transaction; the sends after it.
 * One pass at a time (`kick`), on a timer, on kiosk events, on a kiosk connecting, and after
 * an operator's change. One open (running or halted) rollout at a time.
 */
import { randomUUID } from 'node:crypto';
import type { UpdateStatusData } from '../../protocol/index.js';
import { type Actor, audit, SYSTEM } from '../audit.js';
import { ConflictError, HubError, KioskLacksFeatureError, NotFoundError } from '../errors.js';
import type { HubEvent, KioskCommands } from '../hub/kiosk-commands.js';
import type { Logger } from '../log.js';
import type {
  CommandRecord,
  RolloutKioskRecord,
  RolloutKioskState,
  RolloutRecord,
  Store,
  Tx,
} from '../store/types.js';
import { decide, KIOSK_FINAL, parseWaves, REVOKED_CODE, waveOf } from './waves.js';

/** Kiosk failure codes that only mean "not now": sent again later. */
const RETRY_CODES = new Set(['ETIMEDOUT']);
const MAX_SENDS = 3;
export const DEFAULT_WAVES = ['1', '10%', '100%'];
export const DEFAULT_MAX_FAILURE_RATE = 0.2;
export const DEFAULT_INSTALL_WINDOW_SECONDS = 6 * 3600;
/** kioskd refuses an InstallUpdate whose signature expires further ahead than 24 h. */
export const MAX_INSTALL_WINDOW_SECONDS = 24 * 3600;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._:+~-]{0,63}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export interface RolloutInput {
  version: string;
  bundleSha256: string;
  waves?: string[];
  maxFailureRate?: number;
  installWindowSeconds?: number;
  /** In this order (the first ones are the canaries); default every kiosk not revoked, by id. */
  kiosks?: string[];
}

export interface RolloutView {
  rollout: RolloutRecord;
  kiosks: RolloutKioskRecord[];
  /** Kiosks per state. */
  counts: Partial<Record<RolloutKioskState, number>>;
}

export interface RolloutServiceDeps {
  store: Store;
  /**
   * The kiosks, through the port (never the hub itself). Absent in the CLI: the running hub's
   * next pass takes the changes up.
   */
  kiosks?: Pick<
    KioskCommands,
    'send' | 'settle' | 'connectedInCluster' | 'onEvent' | 'onCommandEnded' | 'onKioskOnline'
  >;
  /** Size of a blob of the content store, undefined when absent. */
  blobSize: (sha256: string) => Promise<number | undefined>;
  /** The bundle's URL as kiosks are told it (`<origin>/blobs/sha256/<sha256>`). */
  bundleUrl: (sha256: string) => string;
  logger: Logger;
  /** A pass over the open rollouts at least this often (picks up rollouts the CLI created). */
  tickMs: number;
  now?: () => Date;
}

export class RolloutService {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> = Promise.resolve();
  private queued = false;
  private stopped = false;
  private readonly onOnline = () => this.kick();
  private readonly onCommandEnded = (c: CommandRecord) => {
    if (this.stopped || c.action !== 'InstallUpdate') return;
    void this.commandEnded(c).catch((err) =>
      this.deps.logger.error({ err, commandId: c.id }, 'rollout: recording a command failed'),
    );
  };

  constructor(private readonly deps: RolloutServiceDeps) {}

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /** Registers the UpdateStatus handler and the port's listeners (before the hub starts). */
  attach(): void {
    this.kiosks.onEvent('UpdateStatus', (ev, tx) => this.onUpdateStatus(ev, tx));
    this.kiosks.onKioskOnline(this.onOnline);
    this.kiosks.onCommandEnded(this.onCommandEnded);
  }

  private get kiosks(): NonNullable<RolloutServiceDeps['kiosks']> {
    if (!this.deps.kiosks) throw new Error('rollouts: no kiosks port');
    return this.deps.kiosks;
  }

  /** Passes every `tickMs` (leader work: cluster/cluster.ts); kicks (a kiosk online, a change) run anywhere. */
  start(): void {
    this.stopped = false;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.kick(), this.deps.tickMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops the periodic passes (this process no longer leads); kicks still run. */
  standBy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.pass;
  }

  /** Resolves when the passes asked for so far have run (tests). */
  async settled(): Promise<void> {
    while (this.queued) await this.pass;
    await this.pass;
  }

  /** Runs a pass over the open rollouts (one at a time; requests during one make one more). */
  kick(): void {
    if (this.queued || this.stopped || !this.deps.kiosks) return;
    this.queued = true;
    this.pass = this.pass.then(async () => {
      this.queued = false;
      if (this.stopped) return;
      try {
        await this.advanceAll();
      } catch (err) {
        this.deps.logger.error({ err }, 'rollout pass failed');
      }
    });
  }

  // ---------------------------------------------------------------- the operator's side

  /** Starts a rollout. Rejects VALIDATION, NOT_FOUND (bundle, kiosk) or ROLLOUT_ACTIVE. */
  async create(input: RolloutInput, who: Actor): Promise<RolloutView> {
    if (!VERSION.test(input.version))
      throw new HubError('VALIDATION', 'version: 1-64 letters, digits or ._:+~-', 400);
    if (!SHA256.test(input.bundleSha256))
      throw new HubError('VALIDATION', 'bundleSha256: 64 lower-case hex digits', 400);
    const rate = input.maxFailureRate ?? DEFAULT_MAX_FAILURE_RATE;
    if (!(rate >= 0 && rate <= 1))
      throw new HubError('VALIDATION', 'maxFailureRate: a share from 0 to 1', 400);
    const window = input.installWindowSeconds ?? DEFAULT_INSTALL_WINDOW_SECONDS;
    if (!Number.isInteger(window) || window < 60 || window > MAX_INSTALL_WINDOW_SECONDS)
      throw new HubError(
        'VALIDATION',
        `installWindowSeconds: 60 to ${MAX_INSTALL_WINDOW_SECONDS} (kiosks refuse signatures valid longer than 24 h)`,
        400,
      );
    const size = await this.deps.blobSize(input.bundleSha256);
    if (!size)
      throw new NotFoundError(
        `bundle ${input.bundleSha256} is not in the content store; import it first (cloud-lite rollout create --bundle FILE does)`,
      );
    const at = this.now().toISOString();
    const id = randomUUID();
    const view = await this.deps.store.transaction(async (tx) => {
      const open = await tx.rollouts.listOpen();
      if (open.length > 0)
        throw new ConflictError(
          'ROLLOUT_ACTIVE',
          `rollout ${open[0]?.id} (version ${open[0]?.version}) is ${open[0]?.state}; cancel it or let it complete first`,
        );
      const all = await tx.kiosks.list();
      let ids: string[];
      if (input.kiosks) {
        ids = [...new Set(input.kiosks)];
        for (const k of ids) {
          const rec = all.find((x) => x.id === k);
          if (!rec) throw new NotFoundError(`kiosk ${k} does not exist`);
          if (rec.revokedAt)
            throw new ConflictError('KIOSK_REVOKED', `kiosk ${k} is revoked: leave it out`);
        }
      } else {
        ids = all
          .filter((k) => !k.revokedAt)
          .map((k) => k.id)
          .sort();
      }
      if (ids.length === 0) throw new HubError('VALIDATION', 'kiosks: no kiosk to update', 400);
      const spec = input.waves ?? DEFAULT_WAVES;
      const waves = parseWaves(spec, ids.length);
      const rollout: RolloutRecord = {
        id,
        version: input.version,
        bundleSha256: input.bundleSha256,
        bundleSize: size,
        waves,
        waveSpec: [...spec],
        maxFailureRate: rate,
        installWindowSeconds: window,
        currentWave: 0,
        state: 'running',
        reason: null,
        createdBy: who.actor,
        createdAt: at,
        updatedAt: at,
      };
      const kiosks: RolloutKioskRecord[] = ids.map((kioskId, position) => ({
        rolloutId: id,
        kioskId,
        position,
        wave: waveOf(position, waves),
        state: 'pending',
        commandId: null,
        attempts: 0,
        fromVersion: null,
        code: null,
        reason: null,
        updatedAt: at,
      }));
      await tx.rollouts.insert(rollout, kiosks);
      await audit(tx, who, at, 'rollout.create', id, {
        version: input.version,
        bundleSha256: input.bundleSha256,
        waves,
        kiosks: ids.length,
      });
      tx.afterCommit(() => this.kick());
      return { rollout, kiosks, counts: { pending: kiosks.length } };
    });
    this.deps.logger.info(
      { rollout: id, version: input.version, waves: view.rollout.waves },
      'rollout started',
    );
    return view;
  }

  async list(limit = 50): Promise<RolloutRecord[]> {
    return this.deps.store.transaction((tx) => tx.rollouts.list(limit));
  }

  /** A rollout with its kiosks; NOT_FOUND. */
  async view(id: string): Promise<RolloutView> {
    return this.deps.store.transaction(async (tx) => {
      const rollout = await tx.rollouts.get(id);
      if (!rollout) throw new NotFoundError(`rollout ${id} does not exist`);
      const kiosks = await tx.rollouts.kiosks(id);
      const counts: RolloutView['counts'] = {};
      for (const k of kiosks) counts[k.state] = (counts[k.state] ?? 0) + 1;
      return { rollout, kiosks, counts };
    });
  }

  /** running -> halted (nothing new is sent; kiosks already installing carry on). */
  halt(id: string, who: Actor, reason = 'halted by the operator'): Promise<RolloutView> {
    return this.change(id, who, 'rollout.halt', ['running'], 'halted', reason);
  }

  /** halted -> running (the wave under way goes on; failures so far still count). */
  resume(id: string, who: Actor): Promise<RolloutView> {
    return this.change(id, who, 'rollout.resume', ['halted'], 'running', null);
  }

  /** running or halted -> cancelled (for good; kiosks already installing carry on). */
  cancel(id: string, who: Actor): Promise<RolloutView> {
    return this.change(
      id,
      who,
      'rollout.cancel',
      ['running', 'halted'],
      'cancelled',
      'cancelled by the operator',
    );
  }

  private async change(
    id: string,
    who: Actor,
    action: string,
    from: RolloutRecord['state'][],
    to: RolloutRecord['state'],
    reason: string | null,
  ): Promise<RolloutView> {
    await this.deps.store.transaction(async (tx) => {
      const r = await tx.rollouts.get(id);
      if (!r) throw new NotFoundError(`rollout ${id} does not exist`);
      if (!from.includes(r.state))
        throw new ConflictError(
          'ROLLOUT_ENDED',
          `rollout ${id} is ${r.state}: only a ${from.join(' or ')} rollout can be ${to}`,
        );
      const at = this.now().toISOString();
      await tx.rollouts.update(id, { state: to, reason, updatedAt: at });
      await audit(tx, who, at, action, id, { from: r.state });
      if (to === 'running') tx.afterCommit(() => this.kick());
    });
    return this.view(id);
  }

  // ---------------------------------------------------------------- the kiosks' side

  /** A kiosk's UpdateStatus, in the transaction recording the event. */
  private async onUpdateStatus(ev: HubEvent<'UpdateStatus'>, tx: Tx): Promise<void> {
    const d: UpdateStatusData = ev.data;
    if (!d.commandId) return; // a technician's install: not part of a rollout
    const k = await tx.rollouts.kioskByCommand(d.commandId);
    if (!k || k.kioskId !== ev.kioskId || KIOSK_FINAL.includes(k.state)) return;
    const at = this.now().toISOString();
    const retry = d.state === 'failed' && RETRY_CODES.has(d.code ?? '') && k.attempts < MAX_SENDS;
    const state: RolloutKioskState = retry ? 'pending' : d.state;
    await tx.rollouts.updateKiosk(k.rolloutId, k.kioskId, {
      state,
      fromVersion: d.fromVersion,
      code: d.code ?? (d.state === k.state ? k.code : null),
      reason: d.reason ?? (d.state === k.state ? k.reason : null),
      updatedAt: at,
      ...(retry ? { commandId: null } : {}),
    });
    if (KIOSK_FINAL.includes(d.state)) {
      await this.kiosks.settle(tx, d.commandId, d.state === 'committed' ? 'completed' : 'failed', {
        kioskId: ev.kioskId,
        result: { state: d.state, ...(d.code ? { code: d.code } : {}) },
      });
      tx.afterCommit(() => this.kick());
    }
  }

  /** An InstallUpdate that was refused, failed on the wire or expired undelivered. */
  private async commandEnded(c: CommandRecord): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      const k = await tx.rollouts.kioskByCommand(c.id);
      if (k?.state !== 'sent') return;
      const at = this.now().toISOString();
      const again = c.state === 'expired' && k.attempts < MAX_SENDS;
      const result = (c.result ?? {}) as { reason?: string; description?: string; code?: string };
      await tx.rollouts.updateKiosk(k.rolloutId, k.kioskId, {
        state: again ? 'pending' : 'failed',
        commandId: again ? null : k.commandId,
        code: c.state === 'rejected' ? 'EREJECTED' : c.state === 'expired' ? 'EEXPIRED' : 'ECALL',
        reason: String(
          result.reason ??
            result.description ??
            (c.state === 'expired'
              ? 'the kiosk was not reached before the deadline'
              : `command ${c.state}`),
        ).slice(0, 1024),
        updatedAt: at,
      });
      tx.afterCommit(() => this.kick());
    });
  }

  // ---------------------------------------------------------------- the passes

  private async advanceAll(): Promise<void> {
    const open = await this.deps.store.transaction((tx) => tx.rollouts.listOpen());
    for (const r of open) if (r.state === 'running') await this.advance(r.id);
  }

  /** One rollout: halt, next wave or completed; then the sends to connected pending kiosks. */
  private async advance(id: string): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      const r = await tx.rollouts.get(id);
      if (r?.state !== 'running') return;
      const ks = await tx.rollouts.kiosks(id);
      const at = this.now().toISOString();
      // `sent` without a command (left by hubs that recorded the command after marking the
      // kiosk, in a transaction of its own, and stopped in between): in line again.
      for (const k of ks) {
        if (k.state !== 'sent' || k.commandId !== null) continue;
        k.state = 'pending';
        k.attempts = Math.max(0, k.attempts - 1);
        await tx.rollouts.updateKiosk(id, k.kioskId, {
          state: 'pending',
          attempts: k.attempts,
          updatedAt: at,
        });
      }
      // A kiosk revoked before it finished will never report: its part ends here.
      const revoked = new Set(
        (await tx.kiosks.list()).filter((k) => k.revokedAt !== null).map((k) => k.id),
      );
      for (const k of ks) {
        if (KIOSK_FINAL.includes(k.state) || !revoked.has(k.kioskId)) continue;
        Object.assign(k, { state: 'failed', code: REVOKED_CODE, reason: 'the kiosk was revoked' });
        await tx.rollouts.updateKiosk(id, k.kioskId, {
          state: 'failed',
          code: REVOKED_CODE,
          reason: 'the kiosk was revoked',
          updatedAt: at,
        });
      }
      const next = decide(r, ks);
      const wave = next.wave;
      if (next.kind !== 'continue') {
        const state = next.kind === 'halt' ? 'halted' : 'completed';
        await tx.rollouts.update(id, {
          state,
          reason: next.reason,
          currentWave: wave,
          updatedAt: at,
        });
        await audit(tx, SYSTEM('rollout'), at, `rollout.${next.kind}`, id, { reason: next.reason });
        if (next.kind === 'halt')
          tx.afterCommit(() =>
            this.deps.logger.warn(
              { rollout: id, wave: wave + 1, failures: next.failures },
              'rollout halted',
            ),
          );
        return;
      }
      if (wave !== r.currentWave) {
        await tx.rollouts.update(id, { currentWave: wave, updatedAt: at });
        tx.afterCommit(() =>
          this.deps.logger.info({ rollout: id, wave: wave + 1 }, 'rollout: next wave'),
        );
      }
      // The InstallUpdate commands are recorded in this transaction (the port sends them once
      // it committed): a kiosk is `sent` exactly when its command exists.
      for (const k of ks) {
        if (k.wave > wave || k.state !== 'pending') continue;
        const kiosk = await tx.kiosks.get(k.kioskId);
        if (kiosk && this.kiosks.connectedInCluster(kiosk)) await this.send(tx, r, k, at);
      }
    });
  }

  private async send(tx: Tx, r: RolloutRecord, k: RolloutKioskRecord, at: string): Promise<void> {
    const deadline = new Date(this.now().getTime() + r.installWindowSeconds * 1000);
    let cmd: CommandRecord;
    try {
      cmd = await this.kiosks.send(
        tx,
        k.kioskId,
        'InstallUpdate',
        {
          version: r.version,
          bundleUrl: this.deps.bundleUrl(r.bundleSha256),
          sha256: r.bundleSha256,
          size: r.bundleSize,
          deadline: deadline.toISOString(),
        },
        deadline,
      );
    } catch (err) {
      if (err instanceof KioskLacksFeatureError) {
        // Its software cannot take InstallUpdate (a kiosk that lists protocol features without
        // `install-update`): a failure of the rollout there, re-flashed by a technician.
        await tx.rollouts.updateKiosk(r.id, k.kioskId, {
          state: 'failed',
          code: err.code,
          reason: err.message,
          updatedAt: at,
        });
        this.deps.logger.warn({ rollout: r.id, kioskId: k.kioskId }, err.message);
        return;
      }
      // Stays pending: the next pass tries again.
      this.deps.logger.error({ err, rollout: r.id, kioskId: k.kioskId }, 'rollout: send failed');
      return;
    }
    await tx.rollouts.updateKiosk(r.id, k.kioskId, {
      state: 'sent',
      commandId: cmd.id,
      attempts: k.attempts + 1,
      code: null,
      reason: null,
      updatedAt: at,
    });
  }
}
