/**
 * Software updates of the kiosk (InstallUpdate from the hub, `kioskctl update install` from a
 * technician), with RAUC on the SD image's A/B slots (images/README.md "Updates"):
 *
 *   downloading  the bundle from the content origin (resume, SHA-256, free space checked)
 *   waiting      for the update lock: no dispense, preparation, wipe or technician job runs
 *   installing   `rauc install` into the inactive slot (RAUC checks the signature)
 *   rebooting    database copied aside, then kioskd asks for `reboot '0 tryboot'`
 *   trial        kioskd started on the new slot: update lock held (nothing sells), self-test,
 *                hub connection, then `rauc status mark-good` ->
 *   committed
 *   rolled_back  kioskd started on the old slot after the trial (the new one failed or never
 *                started): reported with both versions, acknowledged (`mark-bad other`)
 *   failed       before the reboot: download, space, deadline, RAUC refused; nothing changed
 *
 * Every state change is one transaction with its UpdateStatus event (UpdateStore). The record
 * lives in the database on the data partition, shared by both slots.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandResponse, InstallUpdateRequest } from '../../protocol/index.js';
import { hashFile } from '../content/blob-store.js';
import type { KioskDb } from '../db/open-db.js';
import type { KioskLogger } from '../log.js';
import type { TimeSource } from '../state/clock.js';
import type { Outbox } from '../state/outbox.js';
import { downloadBundle, UpdateError } from './bundle-download.js';
import { SNAPSHOT_NAME, snapshotDatabase } from './db-rollback.js';
import type { RaucClient, RaucStatus } from './rauc-client.js';
import type { UpdateLock } from './update-lock.js';
import { type StatusExtras, type UpdateRecord, UpdateStore } from './update-store.js';

export { UpdateError };

export interface UpdateServiceOptions {
  /** Bundles, `.part` files, the database copy and trial markers: `<dataDir>/updates`. */
  dir: string;
  /** kioskd's request for the tryboot reboot (images: disk-kiosk-update-reboot.path). */
  rebootRequestFile: string;
  /** Free bytes kept besides a bundle being downloaded. */
  reserveBytes: number;
  /** If kioskd is still running this long after asking for the reboot, the update failed. */
  rebootTimeoutMs: number;
  /** On a trial boot: the hub must have accepted the Boot within this, else rollback (ENOHUB). */
  trialHubTimeoutMs: number;
  /** UpdateStatus progress at most this often (besides every step). */
  progressIntervalMs: number;
}

export interface UpdateServiceDeps {
  db: KioskDb;
  outbox: Outbox;
  clock: TimeSource;
  log: KioskLogger;
  lock: UpdateLock;
  rauc: Pick<RaucClient, 'status' | 'install' | 'markGood' | 'markBadOther' | 'info'>;
  options: UpdateServiceOptions;
  /** The running image version (/etc/disk-kiosk/image-version), or null off an SD image. */
  imageVersion: () => string | null;
  /**
   * Where to download a bundle from: the hub names its own blob URL; kioskd fetches that blob
   * path from its own content origin (which may be reached by another name). Default: as given.
   */
  bundleUrlFor?: (url: string, sha256: string) => string;
  /** Request headers for a download URL (the kiosk's credentials for its content origin only). */
  headersFor: (url: string) => Record<string, string>;
  fetch?: typeof fetch;
  /** Whether the slot board answers now (recorded before the reboot). */
  boardAnswers: () => Promise<boolean>;
  /** kioskd's self-test on a trial boot; rejects saying what failed. */
  selfTest: (opts: { boardRequired: boolean }) => Promise<void>;
  /** Resolves once the hub has accepted this kioskd's Boot (never, without a hub). */
  hubConnected: () => Promise<void>;
  /** Resolves when the outbox is empty or after `ms`. */
  drained: (ms: number) => Promise<void>;
}

/** What `kioskctl update status` shows. */
export interface UpdateView {
  imageVersion: string | null;
  active: UpdateRecord | null;
  history: UpdateRecord[];
  lock: { updating: string | null; held: string[] };
  rauc: RaucStatus | { error: string };
}

const TRIAL_MARKER = (id: string) => `trial-${id}`;

export class UpdateService extends EventEmitter {
  readonly store: UpdateStore;
  private job: { id: string; abort: AbortController; done: Promise<void> } | undefined;
  private trial: Promise<void> | undefined;
  private releaseLock: (() => void) | undefined;
  private rebootTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: UpdateServiceDeps) {
    super();
    this.store = new UpdateStore(deps);
  }

  private get dir(): string {
    return this.deps.options.dir;
  }

  /**
   * At kioskd's start (after reconciliation, before the hub link): resumes an update left
   * before the reboot, or settles one the reboot decided: the trial slot booted (trial ->
   * committed, in the background) or the old slot is back (rolled_back). Resolves with which
   * of these two this start is (kioskd's Boot then says SoftwareUpdate).
   */
  async start(): Promise<'trial' | 'rolled_back' | undefined> {
    await mkdir(this.dir, { recursive: true });
    const rec = this.store.active();
    if (!rec) return undefined;
    const { log } = this.deps;
    if (rec.state === 'downloading' || rec.state === 'waiting' || rec.state === 'installing') {
      log.info({ update: rec.updateId, state: rec.state }, 'resuming an interrupted update');
      this.spawn(rec);
      return undefined;
    }
    let st: RaucStatus;
    try {
      st = await this.deps.rauc.status();
    } catch (err) {
      log.error({ err: (err as Error).message }, 'update: cannot read the slots from RAUC');
      return undefined;
    }
    if (!rec.fromSlot) {
      this.store.set(rec.updateId, 'failed', {
        code: 'EINTERRUPTED',
        reason: 'the update record names no slot it was installed from',
      });
      return undefined;
    }
    if (st.booted !== rec.fromSlot) {
      this.trial = this.runTrial(rec);
      return 'trial';
    }
    if (st.primary && st.primary !== st.booted) {
      // Restarted between the install and the reboot: the trial is still pending.
      log.warn(
        { update: rec.updateId },
        'update installed but not booted yet: asking for the reboot again',
      );
      this.releaseLock = this.deps.lock.takeNow(`rebooting into version ${rec.version}`);
      await this.requestReboot('tryboot');
      return undefined;
    }
    // kioskd on the trial slot leaves trial-<id>; the image's trial guard trial-booted-<slot>.
    const trialSlot = otherSlot(rec.fromSlot);
    const kioskdRan = existsSync(path.join(this.dir, TRIAL_MARKER(rec.updateId)));
    const booted = kioskdRan || existsSync(path.join(this.dir, `trial-booted-${trialSlot}`));
    // The trial's own verdict, when it recorded one (its database is this one unless the
    // trial migrated it and the copy from before was put back).
    const why = rec.state === 'trial' && rec.reason ? `: ${rec.code}: ${rec.reason}` : '';
    this.store.set(rec.updateId, 'rolled_back', {
      code: booted ? 'ETRIALFAILED' : 'ETRIALNOTBOOTED',
      reason: booted
        ? `version ${rec.version} started on slot ${trialSlot} but was not committed ` +
          (kioskdRan
            ? `(its self-test or the hub connection failed, or it hung)${why}`
            : '(its kioskd never started)') +
          `; back on ${rec.fromVersion}`
        : `the firmware never started version ${rec.version} (no tryboot: a kernel without the ` +
          `tryboot reboot flag, or a power cut before the reboot); still on ${rec.fromVersion}`,
    });
    log.warn(
      { update: rec.updateId, version: rec.version, running: rec.fromVersion },
      'update rolled back',
    );
    await this.deps.rauc
      .markBadOther()
      .catch((err: Error) => log.warn({ err: err.message }, 'rauc status mark-bad other failed'));
    await this.cleanup(rec);
    return 'rolled_back';
  }

  /** Stops a job in progress (its state stays for the next start) and timers. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.rebootTimer);
    this.job?.abort.abort();
    await this.job?.done.catch(() => undefined);
  }

  /** Resolves when the current job (and a trial's commit) has ended (tests). */
  async idle(): Promise<void> {
    await this.job?.done.catch(() => undefined);
    await this.trial?.catch(() => undefined);
  }

  /** The InstallUpdate command (its signature already checked by the dispatcher). */
  handle = async (p: InstallUpdateRequest): Promise<CommandResponse> => {
    const running = this.deps.imageVersion();
    if (!running) {
      return {
        status: 'Rejected',
        reason:
          'this kioskd does not run from a disk-kiosk SD image (no /etc/disk-kiosk/image-version): it cannot update itself',
      };
    }
    const seen = this.store.byCommand(p.commandId);
    if (seen) return { status: 'Accepted' };
    const active = this.store.active();
    if (active) {
      if (active.version === p.version) return { status: 'Accepted' };
      return {
        status: 'Rejected',
        reason: `another update (version ${active.version}) is ${active.state}; send this one when it has ended`,
      };
    }
    const base = {
      updateId: randomUUID(),
      commandId: p.commandId,
      version: p.version,
      fromVersion: running,
      source: 'hub' as const,
      actor: null,
      bundleUrl: p.bundleUrl,
      sha256: p.sha256,
      size: p.size,
      deadline: p.deadline,
      bundleFile: path.join(this.dir, `bundle-${p.sha256.slice(0, 16)}.raucb`),
    };
    if (p.version === running) {
      this.store.create(
        { ...base, state: 'committed' },
        { reason: `already running version ${running}` },
      );
      return { status: 'Accepted' };
    }
    const rec = this.store.create(
      { ...base, state: 'downloading' },
      { percent: 0, bytesDone: 0, bytesTotal: p.size },
    );
    this.spawn(rec);
    return { status: 'Accepted' };
  };

  /**
   * A technician's update from a file (a USB stick): copied to the data partition, checked
   * with `rauc info` (signature against the keyring, compatible, version), then the same
   * steps as from the hub. Resolves with the record once the update is `rebooting` (kioskd is
   * about to restart) or has failed; rejects UpdateError for a bundle refused up front.
   */
  async installFile(
    file: string,
    opts: {
      actor: string;
      signal?: AbortSignal;
      onProgress?: (r: UpdateRecord, x: StatusExtras) => void;
    },
  ): Promise<UpdateRecord> {
    const running = this.deps.imageVersion();
    if (!running)
      throw new UpdateError(
        'ENOTIMAGE',
        'this kioskd does not run from a disk-kiosk SD image: it cannot update itself',
      );
    const active = this.store.active();
    if (active)
      throw new UpdateError(
        'EBUSY',
        `another update (version ${active.version}) is ${active.state}`,
      );
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) throw new UpdateError('ENOENT', `${file} is not a file`);
    await mkdir(this.dir, { recursive: true });
    const id = randomUUID();
    const copy = path.join(this.dir, `local-${id}.raucb`);
    await copyFile(file, copy);
    let info: { compatible: string; version: string };
    try {
      info = await this.deps.rauc.info(copy);
    } catch (err) {
      await rm(copy, { force: true });
      throw new UpdateError('EBUNDLE', `RAUC refuses ${file}: ${(err as Error).message}`);
    }
    if (info.version === running) {
      await rm(copy, { force: true });
      throw new UpdateError(
        'ESAMEVERSION',
        `${file} holds version ${info.version}, which this kiosk already runs`,
      );
    }
    const rec = this.store.create(
      {
        updateId: id,
        commandId: null,
        version: info.version,
        fromVersion: running,
        source: 'technician',
        actor: opts.actor,
        bundleUrl: null,
        sha256: await hashFile(copy),
        size: st.size,
        deadline: null,
        bundleFile: copy,
        state: 'waiting',
      },
      { waitingFor: this.deps.lock.held },
    );
    const onState = (r: UpdateRecord, x: StatusExtras) => {
      if (r.updateId === id) opts.onProgress?.(r, x);
    };
    this.on('state', onState);
    try {
      this.spawn(rec);
      await this.job?.done;
    } finally {
      this.off('state', onState);
    }
    return this.store.get(id) as UpdateRecord;
  }

  /** What `kioskctl update status` shows. */
  async view(): Promise<UpdateView> {
    let rauc: UpdateView['rauc'];
    try {
      rauc = await this.deps.rauc.status();
    } catch (err) {
      rauc = { error: (err as Error).message };
    }
    return {
      imageVersion: this.deps.imageVersion(),
      active: this.store.active() ?? null,
      history: this.store.history(10),
      lock: { updating: this.deps.lock.updating, held: this.deps.lock.held },
      rauc,
    };
  }

  // ------------------------------------------------------------------ the job

  private spawn(rec: UpdateRecord): void {
    const abort = new AbortController();
    const done = this.run(rec, abort.signal).catch((err: unknown) => {
      this.deps.log.error({ err, update: rec.updateId }, 'update job crashed');
    });
    this.job = { id: rec.updateId, abort, done };
  }

  private set(
    rec: UpdateRecord,
    state: UpdateRecord['state'],
    x: StatusExtras = {},
    f = {},
  ): UpdateRecord {
    const r = this.store.set(rec.updateId, state, x, f);
    this.emit('state', r, x);
    return r;
  }

  private async run(rec: UpdateRecord, jobSignal: AbortSignal): Promise<void> {
    const { log, lock, options } = this.deps;
    const deadlineMs = rec.deadline
      ? Date.parse(rec.deadline) - this.deps.clock.now().getTime()
      : undefined;
    const signal =
      deadlineMs === undefined
        ? jobSignal
        : AbortSignal.any([jobSignal, AbortSignal.timeout(Math.max(0, deadlineMs))]);
    const pastDeadline = () => !jobSignal.aborted && signal.aborted;
    // A download cut short keeps its .part: the next InstallUpdate of this bundle resumes it.
    const fail = async (code: string, reason: string) => {
      log.warn({ update: rec.updateId, code, reason }, 'update failed');
      this.set(rec, 'failed', { code, reason });
      await this.cleanup(rec, { keepPart: code === 'EDOWNLOAD' || code === 'ETIMEDOUT' });
    };
    // 1. the bundle
    if (rec.source === 'hub' && (rec.state === 'downloading' || !existsSync(rec.bundleFile))) {
      if (rec.state !== 'downloading') rec = this.set(rec, 'downloading', { percent: 0 });
      let lastAt = 0;
      let lastPct = -1;
      try {
        const url =
          this.deps.bundleUrlFor?.(rec.bundleUrl as string, rec.sha256 as string) ??
          (rec.bundleUrl as string);
        await downloadBundle({
          url,
          file: rec.bundleFile,
          sha256: rec.sha256 as string,
          size: rec.size as number,
          headers: this.deps.headersFor(url),
          fetch: this.deps.fetch,
          signal,
          reserveBytes: options.reserveBytes,
          onProgress: (done, total) => {
            const pct = Math.floor((done * 100) / total);
            const now = Date.now();
            if (pct === lastPct || (now - lastAt < options.progressIntervalMs && pct < 100)) return;
            lastAt = now;
            lastPct = pct;
            this.set(rec, 'downloading', { percent: pct, bytesDone: done, bytesTotal: total });
          },
        });
      } catch (err) {
        if (jobSignal.aborted) return; // kioskd stopping: resumed at the next start
        if (pastDeadline())
          return fail(
            'ETIMEDOUT',
            `the deadline ${rec.deadline} passed before the bundle was downloaded`,
          );
        const e = err as UpdateError;
        return fail(e.code ?? 'EDOWNLOAD', e.message);
      }
    }
    // 2. the update lock
    let release: () => void;
    let lastWait = '';
    try {
      release = await lock.take(`installing version ${rec.version}`, {
        signal,
        onWait: (holders) => {
          const key = holders.join(', ');
          if (key === lastWait) return;
          lastWait = key;
          rec = this.set(rec, 'waiting', {
            waitingFor: holders.slice(0, 32).map((h) => h.slice(0, 64)),
          });
        },
      });
    } catch {
      if (jobSignal.aborted) return;
      return fail(
        'ETIMEDOUT',
        `the kiosk stayed busy (${lock.held.join(', ') || 'jobs'}) until the deadline ${rec.deadline}`,
      );
    }
    this.releaseLock = release;
    // 3. RAUC
    try {
      const before = await this.deps.rauc.status();
      const boardOk = await this.deps.boardAnswers().catch(() => false);
      rec = this.set(rec, 'installing', { percent: 0 }, { fromSlot: before.booted, boardOk });
      let lastPct = 0;
      await this.deps.rauc.install(rec.bundleFile, {
        signal: jobSignal,
        onProgress: (pct) => {
          if (pct - lastPct < 10 && pct < 100) return;
          lastPct = pct;
          this.set(rec, 'installing', { percent: pct });
        },
      });
      const after = await this.deps.rauc.status();
      if (!after.primary || after.primary === after.booted) {
        throw new UpdateError(
          'ERAUC',
          `RAUC installed the bundle but did not activate the other slot (primary ${after.primary ?? 'unknown'})`,
        );
      }
    } catch (err) {
      release();
      this.releaseLock = undefined;
      if (jobSignal.aborted) return;
      const e = err as UpdateError;
      return fail(e.code === 'ENORAUC' ? 'ENORAUC' : 'ERAUC', e.message);
    }
    // 4. the reboot (the lock stays taken: kioskd ends with the reboot)
    try {
      await snapshotDatabase(this.deps.db, path.join(this.dir, SNAPSHOT_NAME));
    } catch (err) {
      log.warn(
        { err: (err as Error).message },
        'update: the database copy failed; a rollback would keep the newer database',
      );
    }
    await rm(rec.bundleFile, { force: true });
    rec = this.set(rec, 'rebooting');
    await this.deps.drained(10_000);
    await this.requestReboot('tryboot');
  }

  /** Asks root (update-reboot) for the reboot; fails the update if it does not come. */
  private async requestReboot(kind: 'tryboot' | 'rollback'): Promise<void> {
    const file = this.deps.options.rebootRequestFile;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, `${kind}\n`);
    await rename(`${file}.tmp`, file);
    this.deps.log.warn({ kind, request: file }, 'update: reboot requested');
    if (kind !== 'tryboot' || this.stopped) return;
    clearTimeout(this.rebootTimer);
    this.rebootTimer = setTimeout(() => {
      const rec = this.store.active();
      if (rec?.state !== 'rebooting') return;
      this.set(rec, 'failed', {
        code: 'EREBOOT',
        reason: `kioskd asked for the reboot into version ${rec.version} (${file}) but it did not happen within ${this.deps.options.rebootTimeoutMs / 1000} s; is disk-kiosk-update-reboot.path running?`,
      });
      this.releaseLock?.();
      this.releaseLock = undefined;
    }, this.deps.options.rebootTimeoutMs);
    this.rebootTimer.unref();
  }

  // ------------------------------------------------------------------ the trial boot

  private async runTrial(rec: UpdateRecord): Promise<void> {
    const { log, lock } = this.deps;
    const release = lock.takeNow(`on trial of version ${rec.version}`);
    await writeFile(
      path.join(this.dir, TRIAL_MARKER(rec.updateId)),
      `${this.deps.clock.now().toISOString()}\n`,
    );
    if (rec.state !== 'trial') rec = this.set(rec, 'trial');
    log.info(
      { update: rec.updateId, version: rec.version },
      'trial boot of an update: self-test, then the hub',
    );
    try {
      const running = this.deps.imageVersion();
      if (running !== rec.version) {
        throw new UpdateError(
          'EVERSION',
          `the new slot runs version ${running ?? 'unknown'}, not ${rec.version}`,
        );
      }
      await this.deps.selfTest({ boardRequired: rec.boardOk });
      await this.hubWithin(rec, this.deps.options.trialHubTimeoutMs);
      if (this.stopped) return;
      await this.deps.rauc.markGood();
      const st = await this.deps.rauc.status();
      if (st.primary !== st.booted) {
        throw new UpdateError(
          'ERAUC',
          `rauc status mark-good did not commit slot ${st.booted} (primary ${st.primary ?? 'unknown'})`,
        );
      }
      release();
      this.set(rec, 'committed');
      log.info({ update: rec.updateId, version: rec.version }, 'update committed');
      await this.cleanup(rec);
    } catch (err) {
      if (this.stopped) return;
      const e = err as UpdateError;
      log.error(
        { update: rec.updateId, code: e.code, err: e.message },
        'trial of the update failed: rolling back',
      );
      this.set(rec, 'trial', {
        code: e.code ?? 'ESELFTEST',
        reason: `${e.message}; rebooting into ${rec.fromVersion}`,
      });
      await this.deps.drained(10_000);
      await this.requestReboot('rollback');
    }
  }

  /** Resolves once the hub accepted the Boot; rejects ENOHUB after `ms`. */
  private async hubWithin(rec: UpdateRecord, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UpdateError(
              'ENOHUB',
              `version ${rec.version} did not reach the hub within ${ms / 1000} s of starting`,
            ),
          ),
        ms,
      );
    });
    try {
      await Promise.race([this.deps.hubConnected(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async cleanup(rec: UpdateRecord, o: { keepPart?: boolean } = {}): Promise<void> {
    await rm(rec.bundleFile, { force: true });
    if (!o.keepPart) await rm(`${rec.bundleFile}.part`, { force: true });
    await rm(path.join(this.dir, TRIAL_MARKER(rec.updateId)), { force: true });
    await rm(path.join(this.dir, 'trial-booted-A'), { force: true });
    await rm(path.join(this.dir, 'trial-booted-B'), { force: true });
    await rm(path.join(this.dir, SNAPSHOT_NAME), { force: true });
  }
}

const otherSlot = (s: string | null) => (s === 'A' ? 'B' : s === 'B' ? 'A' : 'the other slot');
