/**
 * Returned disks and wipes. A returned disk that was write-protected is verified
 * against its identity manifest (the cache's signed copy when the kiosk has it) and
 * goes back to `ready`; a writable one is wiped (quick by default, full when configured
 * or when the renter's data must be destroyed) and goes to `loaded`. Health-check or
 * verification failures go to `fault`. Each outcome commits with DiskChecked (and
 * WipeCompleted/WipeFailed) in the slot's transaction. `WipeDisk` runs the same wipe.
 */

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { CodedError } from '../../common/coded-error.js';
import type { CommandResponse, WipeDiskRequest } from '../../protocol/index.js';
import type { ContentManifest } from '../content/manifest.js';
import type { KioskDb } from '../db/open-db.js';
import type { KioskLogger } from '../log.js';
import { NoSuchSlotError } from '../slots/errors.js';
import type { SlotRecord, SlotStore } from '../slots/slot-store.js';
import type { SlotStateName } from '../slots/transitions.js';
import type { TimeSource } from '../state/clock.js';
import { clip, diskIdFor, knownDiskId, type SlotDiskLocator, upsertDisk } from './disk-records.js';
import { readIdentity } from './identity.js';
import { recordReadyReformat } from './ready-reformats.js';
import { type CloneStorage, type JobLock, type WriteProtectRelay, withJobLock } from './types.js';
import { describeVerify, verifyTree } from './verify.js';
import {
  clearWipeJob,
  countWipeAttempt,
  listWipeJobs,
  prepareClaimedSlots,
  recordWipeJob,
  type WipeJob,
} from './wipe-jobs.js';

export type HealthCheck = (device: string) => Promise<{ ok: boolean; note: string }>;

/**
 * `smartctl -H` when installed; otherwise skipped (ok, with a note to log). USB bridges
 * that do not pass SMART through are skipped the same way.
 */
export function smartctlHealth(log: KioskLogger): HealthCheck {
  const run = promisify(execFile);
  return async (device) => {
    try {
      const { stdout } = await run('smartctl', ['-H', device], { timeout: 60_000 });
      return {
        ok: !/FAILED/i.test(stdout),
        note:
          stdout
            .split('\n')
            .find((l) => /result|Status/i.test(l))
            ?.trim() ?? 'smartctl ran',
      };
    } catch (err) {
      const e = err as { code?: string | number; stdout?: string };
      if (e.code === 'ENOENT') {
        log.info({ device }, 'smartctl not installed: health check skipped');
        return { ok: true, note: 'smartctl not installed; skipped' };
      }
      // smartctl's exit bit 3 (8) = "disk failing"; other bits are about the bridge/command.
      if (typeof e.code === 'number' && (e.code & 8) !== 0)
        return { ok: false, note: `smartctl -H: disk failing (exit ${e.code})` };
      return { ok: true, note: `smartctl -H gave no verdict (exit ${String(e.code)}); skipped` };
    }
  };
}

export interface DiskCheckDeps {
  db: KioskDb;
  slots: SlotStore;
  clock: TimeSource;
  log: KioskLogger;
  storage: CloneStorage;
  relay: WriteProtectRelay;
  locateDisk: SlotDiskLocator;
  /** The kiosk's own manifest for content, if cached (preferred over the disk's copy). */
  manifestOf?: (contentId: string, version: string) => ContentManifest | undefined;
  health?: HealthCheck;
  options?: { wipeMode?: 'quick' | 'full'; verifyReaders?: number; mountRoot?: string };
  /** The update lock, held while a check or wipe runs (it waits while an update owns it). */
  updateLock?: JobLock;
}

export type CheckOutcome = 'ready' | 'loaded' | 'fault';

class CheckFailure extends CodedError {}

export class DiskCheckService {
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: DiskCheckDeps) {}

  async start(): Promise<void> {}

  /** Waits for running checks and wipes (they are not cancelled: a wipe runs to its end). */
  async stop(): Promise<void> {
    await this.idle();
  }

  /**
   * Call once at start, before the prepare handler's recover() and before any check:
   * a check or wipe interrupted by a crash (its `wipe_jobs` row, slot still `preparing`)
   * is resumed with the same mode, and a slot left in `preparing` that no running
   * PrepareDisk claims (pre-staging) gets a wipe, so no disk that may hold a renter's
   * data reaches `loaded` or `ready` unwiped. Returns at once; the resumed work runs in
   * the background (idle() and stop() wait for it); the slots stay `preparing` until it
   * ends, so nothing offers or picks them meanwhile.
   */
  async recover(): Promise<void> {
    const { db, slots, clock, log } = this.deps;
    const jobs = new Map(listWipeJobs(db).map((j) => [j.slot, j]));
    const claimed = prepareClaimedSlots(db);
    for (const s of slots.list()) {
      const job = jobs.get(s.slot);
      jobs.delete(s.slot);
      if (s.state !== 'preparing') {
        if (job) clearWipeJob(db, s.slot);
        continue;
      }
      if (!job && (claimed.has(s.slot) || !s.diskId)) continue;
      const resumed: WipeJob = job ?? {
        slot: s.slot,
        diskId: s.diskId as string,
        kind: 'wipe',
        mode: this.deps.options?.wipeMode ?? 'quick',
        writeProtected: false,
        attempts: 1,
      };
      if (job) countWipeAttempt(db, s.slot);
      else recordWipeJob(db, resumed, clock.now().toISOString());
      log.warn(
        { slot: s.slot, diskId: resumed.diskId, kind: resumed.kind, mode: resumed.mode },
        job ? 'resuming an interrupted disk check or wipe' : 'wiping a disk left mid-preparation',
      );
      this.track(`recover-${s.slot}`, this.resume(resumed));
    }
    for (const j of jobs.values()) clearWipeJob(db, j.slot);
  }

  /**
   * Checks the disk in a `returned` slot and moves the slot to ready / loaded / fault.
   * A disk the kiosk has never seen gets its disk row (id from its USB serial) here.
   * `destroyData` forces a full overwrite of a writable disk. Resolves with the outcome;
   * rejects only if the slot is not `returned` (StaleStateError from the slot store).
   */
  async checkReturned(slot: number, opts: { destroyData?: boolean } = {}): Promise<CheckOutcome> {
    const { db, slots } = this.deps;
    const cur = slots.get(slot);
    const loc = await this.deps.locateDisk(slot).catch(() => undefined);
    const diskId = cur.diskId ?? knownDiskId(db, loc?.serial) ?? diskIdFor(loc?.serial);
    const wp = cur.writeProtect || this.diskRow(diskId)?.write_protected === 1;
    const mode = opts.destroyData ? 'full' : (this.deps.options?.wipeMode ?? 'quick');
    const job = { slot, diskId, kind: 'check' as const, mode, writeProtected: wp, attempts: 1 };
    this.enter(job, 'returned', 'checking a returned disk', loc);
    return this.resume(job, loc ?? null);
  }

  /**
   * `WipeDisk` handler: answers at once (Rejected when the slot is not loaded, ready or
   * returned, or has no disk) and wipes in the background: slot -> preparing -> loaded
   * with WipeCompleted, or -> fault with WipeFailed.
   */
  handleWipe(payload: WipeDiskRequest): Promise<CommandResponse> {
    const { slots } = this.deps;
    let cur: SlotRecord;
    try {
      cur = slots.get(payload.slot);
    } catch (err) {
      if (!(err instanceof NoSuchSlotError)) throw err;
      return Promise.resolve({
        status: 'Rejected',
        reason: `slot ${payload.slot} does not exist on this kiosk`,
      });
    }
    const allowed: SlotStateName[] = ['loaded', 'ready', 'returned'];
    if (!allowed.includes(cur.state)) {
      return Promise.resolve({
        status: 'Rejected',
        reason: `slot ${payload.slot} is ${cur.state}; only a loaded, ready or returned disk can be wiped`,
      });
    }
    if (this.running.has(payload.commandId)) return Promise.resolve({ status: 'Accepted' });
    this.track(payload.commandId, this.wipeJob(payload, cur.state));
    return Promise.resolve({ status: 'Accepted' });
  }

  /**
   * A technician's wipe (kioskctl): like WipeDisk but awaited. Resolves with the outcome
   * (`loaded`, or `fault` when the wipe failed); rejects when the slot is not loaded,
   * ready or returned (StaleStateError). Not cancellable: a started wipe runs to its end.
   */
  async wipe(slot: number, mode: 'quick' | 'full'): Promise<CheckOutcome> {
    const from = this.deps.slots.get(slot).state;
    if (!(['loaded', 'ready', 'returned'] as SlotStateName[]).includes(from))
      throw new CheckFailure(
        'ESTATE',
        `slot ${slot} is ${from}; only a loaded, ready or returned disk can be wiped`,
      );
    return this.wipeJob({ commandId: randomUUID(), slot, mode }, from);
  }

  /**
   * Re-reads the disk in `slot` (mounted read-only, caches dropped) and checks it against
   * its manifest; the slot state is left as it is. Rejects ENODEVICE, ENOIDENTITY, EVERIFY
   * or EIO. Not cancellable; as long as the disk takes to read.
   */
  async verifySlot(slot: number): Promise<{ contentId: string; version: string; files: number }> {
    const loc = await this.deps.locateDisk(slot).catch(() => undefined);
    if (!loc)
      throw new CheckFailure('ENODEVICE', `no block device found for the disk in slot ${slot}`);
    const m = await this.verifyContent(loc.device);
    return { contentId: m.contentId, version: m.version, files: m.files.length };
  }

  /** Resolves when no wipe started by handleWipe or recover() is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private track(key: string, p: Promise<unknown>): void {
    const done = p
      .catch((err: Error) => this.deps.log.error({ err: err.message, key }, 'disk job crashed'))
      .finally(() => this.running.delete(key));
    this.running.set(key, done);
  }

  private async wipeJob(
    payload: Pick<WipeDiskRequest, 'commandId' | 'slot' | 'mode'>,
    from: SlotStateName,
  ): Promise<CheckOutcome> {
    const { db, slots } = this.deps;
    const { slot, mode, commandId } = payload;
    const loc = await this.deps.locateDisk(slot).catch(() => undefined);
    const diskId = slots.get(slot).diskId ?? knownDiskId(db, loc?.serial) ?? diskIdFor(loc?.serial);
    const job = { slot, diskId, kind: 'wipe' as const, mode, writeProtected: false, commandId };
    this.enter({ ...job, attempts: 1 }, from, `wipe (${mode})`, loc);
    return this.resume({ ...job, attempts: 1 }, loc ?? null);
  }

  /** `from` -> preparing with the disk row and the wipe_jobs row, in one transaction. */
  private enter(
    job: WipeJob,
    from: SlotStateName,
    reason: string,
    loc: { capacityBytes: number; serial?: string | null } | undefined,
  ): void {
    const now = this.deps.clock.now().toISOString();
    this.deps.slots.transition({
      slot: job.slot,
      from,
      to: 'preparing',
      reason,
      set: { diskId: job.diskId },
      also: (d) => {
        if (from === 'ready')
          recordReadyReformat(d, {
            slot: job.slot,
            cause: 'wipe',
            to: null,
            commandId: job.commandId,
            now,
          });
        upsertDisk(d, {
          diskId: job.diskId,
          slot: job.slot,
          capacityBytes: loc?.capacityBytes || undefined,
          serial: loc?.serial,
          now,
        });
        recordWipeJob(d, job, now);
      },
    });
  }

  /**
   * The work of a check or wipe whose slot is `preparing` (fresh or resumed after a
   * crash): verify (write-protected returned disk) -> ready, or wipe -> loaded, or fault.
   * Each outcome clears the wipe_jobs row in its transaction. `loc` undefined = locate now.
   */
  /** A check or wipe, holding the update lock (an interrupted one resumes after a reboot). */
  private resume(job: WipeJob, located?: { device: string } | null): Promise<CheckOutcome> {
    return withJobLock(this.deps.updateLock, `${job.kind} slot ${job.slot}`, () =>
      this.resumeLocked(job, located),
    );
  }

  private async resumeLocked(
    job: WipeJob,
    located?: { device: string } | null,
  ): Promise<CheckOutcome> {
    const { slots, storage, clock } = this.deps;
    const { slot, diskId, mode, commandId } = job;
    const check = job.kind === 'check';
    const wp = check && job.writeProtected;
    const now = () => clock.now().toISOString();
    try {
      const loc =
        located === undefined
          ? await this.deps.locateDisk(slot).catch(() => undefined)
          : (located ?? undefined);
      if (!loc)
        throw new CheckFailure('ENODEVICE', `no block device found for the disk in slot ${slot}`);
      if (check) await this.healthCheck(loc.device);
      if (wp) {
        const m = await this.verifyContent(loc.device);
        slots.transition({
          slot,
          from: 'preparing',
          to: 'ready',
          reason: `returned disk verified: ${m.contentId}@${m.version}`,
          set: { diskId, writeProtect: true },
          events: [{ type: 'DiskChecked', data: { slot, diskId, result: 'ready' } }],
          also: (d) => {
            clearWipeJob(d, slot);
            upsertDisk(d, {
              diskId,
              slot,
              content: { contentId: m.contentId, version: m.version },
              writeProtected: true,
              health: 'good',
              now: now(),
            });
          },
        });
        await storage.setReadOnly(loc.device, true).catch(() => undefined);
        return 'ready';
      }
      await this.wipeDevice(slot, loc.device, mode);
      slots.transition({
        slot,
        from: 'preparing',
        to: 'loaded',
        reason: check ? `returned writable disk wiped (${mode})` : `wiped (${mode})`,
        set: { diskId, writeProtect: false },
        events: [
          {
            type: 'WipeCompleted',
            data: { ...(commandId ? { commandId } : {}), slot, diskId, mode },
          },
          ...(check
            ? [{ type: 'DiskChecked' as const, data: { slot, diskId, result: 'loaded' as const } }]
            : []),
        ],
        also: (d) => {
          clearWipeJob(d, slot);
          upsertDisk(d, {
            diskId,
            slot,
            content: null,
            writeProtected: false,
            ...(check ? { health: 'good' as const } : {}),
            now: now(),
          });
        },
      });
      return 'loaded';
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'EINTERNAL';
      const reason = clip((err as Error).message);
      this.deps.log.warn({ slot, diskId, code, err: reason }, 'disk check or wipe failed');
      slots.transition({
        slot,
        from: 'preparing',
        to: 'fault',
        reason: clip(`${check ? 'returned disk check' : 'wipe'} failed: ${reason}`),
        set: { diskId, fault: { code, message: reason } },
        events: [
          ...(wp
            ? []
            : [
                {
                  type: 'WipeFailed' as const,
                  data: { ...(commandId ? { commandId } : {}), slot, diskId, code, reason },
                },
              ]),
          ...(check
            ? [
                {
                  type: 'DiskChecked' as const,
                  data: { slot, diskId, result: 'fault' as const, reason },
                },
              ]
            : []),
        ],
        also: (d) => {
          clearWipeJob(d, slot);
          upsertDisk(d, { diskId, slot, content: null, health: 'bad', now: now() });
        },
      });
      return 'fault';
    }
  }

  private async wipeDevice(slot: number, device: string, mode: 'quick' | 'full'): Promise<void> {
    const { storage } = this.deps;
    await this.deps.relay.setWriteProtect(slot, false);
    await storage.setReadOnly(device, false);
    await storage.unmount(device);
    if (mode === 'full') await storage.fullWipe(device);
    else await storage.quickWipe(device);
  }

  private async healthCheck(device: string): Promise<void> {
    if (!this.deps.health) return;
    const h = await this.deps.health(device);
    if (!h.ok) throw new CheckFailure('EHEALTH', `health check failed: ${h.note}`);
  }

  /** Mounts read-only, reads the identity, verifies every file; rejects EVERIFY / EIO / ENOIDENTITY. */
  private async verifyContent(device: string): Promise<ContentManifest> {
    const { storage } = this.deps;
    await storage.unmount(device);
    await storage.dropCaches(device);
    const mountRoot = this.deps.options?.mountRoot;
    const mnt = await storage.mount(device, {
      readOnly: true,
      ...(mountRoot ? { mountpoint: `${mountRoot}/check-${device.replace(/\W/g, '')}` } : {}),
    });
    try {
      const id = await readIdentity(mnt.mountpoint);
      if (!id)
        throw new CheckFailure(
          'ENOIDENTITY',
          'the disk has no readable identity file; it cannot be trusted as prepared',
        );
      if (id.image) await this.checkVolumeSerial(device, id.image.volumeSerial);
      const m = this.deps.manifestOf?.(id.contentId, id.contentVersion) ?? id.manifest;
      const v = await verifyTree(mnt.mountpoint, m, {
        hashFiles: (f, o) => storage.hashFiles(f, o),
        readers: this.deps.options?.verifyReaders ?? 4,
      });
      if (!v.ok)
        throw new CheckFailure(
          v.unreadable.length ? 'EIO' : 'EVERIFY',
          `content does not match its manifest: ${describeVerify(v)}`,
        );
      return m;
    } finally {
      await storage.unmount(device);
    }
  }

  /** An image-mode disk carries the volume serial it was given; another one means it was re-made. */
  private async checkVolumeSerial(device: string, expected: string): Promise<void> {
    const uuid = (await this.deps.storage.probe(device)).uuid?.toUpperCase();
    if (uuid !== expected.toUpperCase())
      throw new CheckFailure(
        'EVERIFY',
        `the volume serial is ${uuid ?? 'missing'}, not the ${expected} this disk was prepared with: it was re-formatted or copied`,
      );
  }

  private diskRow(diskId: string): { write_protected: number } | undefined {
    return this.deps.db
      .prepare('SELECT write_protected FROM disks WHERE disk_id = ?')
      .get(diskId) as { write_protected: number } | undefined;
  }
}

export function createDiskCheckService(deps: DiskCheckDeps): DiskCheckService {
  return new DiskCheckService(deps);
}
