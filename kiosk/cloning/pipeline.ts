/**
 * The cloning pipeline: format (exFAT, label) -> mount -> rsync from a staging view of
 * the cache -> flush + unmount -> drop caches, mount read-only, re-read and SHA-256
 * every file -> write the identity file -> unmount -> read-only flag and write-protect
 * relay as ordered.
 *
 * Reading back from the disk, not from caches (exfat-fuse here; the kernel driver on
 * a Pi is the same story): unmounting ends the FUSE daemon, so its own caches and the
 * kernel's page cache of the files (FUSE inodes) are gone; exfat-fuse reads the block
 * device through the device's buffer cache, which `storage.dropCaches` flushes and
 * invalidates (`blockdev --flushbufs`, plus `drop_caches` as root). The mount that
 * follows then reads from the medium. O_DIRECT would not do: FUSE passes it to a daemon
 * that reads the device buffered anyway.
 *
 * Several slots run at once up to `concurrency`; one disk's failure never touches the
 * others. Transient I/O errors (EIO/EBUSY from storage, rsync I/O exits) are retried a
 * bounded number of times per step. Every failure rejects with CloneError naming the
 * step, after unmounting (best effort), so the caller can record the slot's state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { Semaphore } from '../content/limit.js';
import type { ContentManifest } from '../content/manifest.js';
import type { TimeSource } from '../link/clock.js';
import type { KioskLogger } from '../log.js';
import { writeIdentity } from './identity.js';
import { ProgressMeter } from './progress-meter.js';
import { rsyncCopy } from './rsync-copy.js';
import { buildStaging } from './staging.js';
import {
  CloneError,
  type CloneErrorCode,
  type CloneProgress,
  type CloneStep,
  type CloneStorage,
  type WriteProtectRelay,
} from './types.js';
import { describeVerify, verifyTree } from './verify.js';

export interface ClonePipelineOptions {
  /** Slots cloned at once. Default 2. */
  concurrency?: number;
  /** Parallel rsync processes per disk. Default 4. */
  rsyncProcesses?: number;
  /** Parallel readers while verifying. Default 4. */
  verifyReaders?: number;
  /** Attempts per step on transient errors. Default 3. */
  attempts?: number;
  /** Free space kept on the disk beyond the content (filesystem overhead). Default 1% + 16 MiB. */
  reserveBytes?: (capacity: number) => number;
  /** Where mounts go; default the storage's own default. */
  mountRoot?: string;
}

export interface ClonePipelineDeps {
  storage: CloneStorage;
  relay: WriteProtectRelay;
  /** Where cached blobs are and where staging views may be made (same filesystem). */
  cache: { blobPath(sha256: string): string; stagingDir: string };
  kioskId: string;
  clock: TimeSource;
  log: KioskLogger;
  options?: ClonePipelineOptions;
}

export interface CloneJob {
  slot: number;
  device: string;
  diskId: string;
  capacityBytes: number;
  manifest: ContentManifest;
  writeProtect: boolean;
  /** exFAT label (1-11 chars); default derived from the content id. */
  label?: string;
  signal?: AbortSignal;
  onProgress?: (p: CloneProgress) => void;
}

export interface CloneResult {
  diskId: string;
  preparedAt: string;
  verifiedBytes: number;
}

export class ClonePipeline {
  private readonly limiter: Semaphore;

  constructor(private readonly deps: ClonePipelineDeps) {
    this.limiter = new Semaphore(deps.options?.concurrency ?? 2);
  }

  /** Clones one disk; waits for a free pipeline first (abort while waiting rejects EABORTED). */
  run(job: CloneJob): Promise<CloneResult> {
    return this.limiter
      .run(() => this.clone(job), job.signal)
      .catch((err: unknown) => {
        if (err instanceof CloneError) throw err;
        throw new CloneError(
          'EABORTED',
          'formatting',
          `clone of slot ${job.slot} cancelled before it started`,
          { cause: err },
        );
      });
  }

  private async clone(job: CloneJob): Promise<CloneResult> {
    const { storage, log: rootLog } = this.deps;
    const o = this.deps.options ?? {};
    const log = rootLog.child({
      slot: job.slot,
      diskId: job.diskId,
      contentId: job.manifest.contentId,
    });
    const m = job.manifest;
    const reserve =
      o.reserveBytes?.(job.capacityBytes) ?? Math.ceil(job.capacityBytes * 0.01) + 16 * 2 ** 20;
    if (m.totalBytes + reserve > job.capacityBytes) {
      throw new CloneError(
        'ETOOSMALL',
        'formatting',
        `content ${m.contentId}@${m.version} (${m.totalBytes} bytes) does not fit disk ${job.diskId} (${job.capacityBytes} bytes)`,
      );
    }
    const mountpoint = o.mountRoot ? path.join(o.mountRoot, `slot-${job.slot}`) : undefined;
    const mountOpts = (readOnly: boolean) => ({ readOnly, ...(mountpoint ? { mountpoint } : {}) });
    const emit = (p: CloneProgress) => job.onProgress?.(p);
    const stepOnly = (step: CloneStep) =>
      emit(new ProgressMeter(step, m.totalBytes, m.files.length).sample(0, 0));
    const aborted = () => {
      if (job.signal?.aborted)
        throw new CloneError('EABORTED', 'copying', `clone of slot ${job.slot} cancelled`);
    };
    const staging = await buildStaging(this.deps.cache.stagingDir, m, (h) =>
      this.deps.cache.blobPath(h),
    );
    const listDir = await mkdtemp(path.join(this.deps.cache.stagingDir, 'lists-'));
    try {
      stepOnly('formatting');
      await storage.setReadOnly(job.device, false).catch(() => undefined);
      await this.deps.relay.setWriteProtect(job.slot, false);
      await this.step('formatting', 'EFORMAT', () =>
        storage
          .unmount(job.device)
          .then(() => storage.format(job.device, { label: job.label ?? labelFor(m.contentId) })),
      );
      aborted();
      const mnt = await this.step('copying', 'EMOUNT', () =>
        storage.mount(job.device, mountOpts(false)),
      );
      const copyMeter = new ProgressMeter('copying', m.totalBytes, m.files.length);
      emit(copyMeter.sample(0, 0));
      await rsyncCopy({
        source: staging.root,
        target: mnt.mountpoint,
        files: m.files,
        processes: o.rsyncProcesses ?? 4,
        copyLinks: staging.symlinks,
        listDir,
        signal: job.signal,
        attempts: o.attempts ?? 3,
        onProgress: (b, f) => emit(copyMeter.sample(b, f)),
      });
      emit(copyMeter.sample(m.totalBytes, m.files.length));
      aborted();
      stepOnly('flushing');
      await this.step('flushing', 'EIO', () => storage.flush(job.device));
      await this.step('flushing', 'EMOUNT', () => storage.unmount(job.device, { noLazy: true }));
      await this.step('verifying', 'EIO', () => storage.dropCaches(job.device));
      const ro = await this.step('verifying', 'EMOUNT', () =>
        storage.mount(job.device, mountOpts(true)),
      );
      const vMeter = new ProgressMeter('verifying', m.totalBytes, m.files.length);
      emit(vMeter.sample(0, 0));
      const v = await verifyTree(ro.mountpoint, m, {
        readers: o.verifyReaders ?? 4,
        signal: job.signal,
        onProgress: (b, f) => emit(vMeter.sample(b, f)),
      });
      await storage.unmount(job.device);
      if (!v.ok) {
        const code: CloneErrorCode = v.unreadable.length > 0 ? 'EIO' : 'EVERIFY';
        throw new CloneError(
          code,
          'verifying',
          `disk ${job.diskId} in slot ${job.slot} does not hold what was copied: ${describeVerify(v)}`,
        );
      }
      emit(vMeter.sample(m.totalBytes, m.files.length));
      stepOnly('configuring');
      const preparedAt = this.deps.clock.now().toISOString();
      const rw = await this.step('configuring', 'EMOUNT', () =>
        storage.mount(job.device, mountOpts(false)),
      );
      await this.step('configuring', 'ECONFIGURE', () =>
        writeIdentity(rw.mountpoint, {
          format: 1,
          diskId: job.diskId,
          contentId: m.contentId,
          contentVersion: m.version,
          preparedAt,
          kioskId: this.deps.kioskId,
          writeProtect: job.writeProtect,
          manifest: m,
        }),
      );
      await this.step('configuring', 'EIO', () => storage.flush(job.device));
      await this.step('configuring', 'EMOUNT', () => storage.unmount(job.device, { noLazy: true }));
      if (job.writeProtect) {
        await this.step('configuring', 'ECONFIGURE', () => storage.setReadOnly(job.device, true));
      }
      await this.step('configuring', 'ECONFIGURE', () =>
        this.deps.relay.setWriteProtect(job.slot, job.writeProtect),
      );
      emit({ ...vMeter.sample(m.totalBytes, m.files.length), step: 'done', etaSeconds: 0 });
      log.info({ bytes: m.totalBytes, files: m.files.length }, 'disk prepared and verified');
      return { diskId: job.diskId, preparedAt, verifiedBytes: v.bytesRead };
    } catch (err) {
      await storage
        .unmount(job.device)
        .catch((e: unknown) => log.warn({ err: e }, 'unmount after a failed clone failed'));
      const e =
        err instanceof CloneError
          ? err
          : new CloneError(
              job.signal?.aborted ? 'EABORTED' : 'EIO',
              'copying',
              (err as Error).message,
              { cause: err },
            );
      log.warn({ code: e.code, step: e.step, err: e.message }, 'clone failed');
      throw e;
    } finally {
      await staging.remove();
      await rm(listDir, { recursive: true, force: true });
    }
  }

  /** Runs one operation, retrying transient storage errors (EIO, EBUSY) a bounded number of times. */
  private async step<R>(step: CloneStep, code: CloneErrorCode, fn: () => Promise<R>): Promise<R> {
    const attempts = this.deps.options?.attempts ?? 3;
    for (let i = 1; ; i++) {
      try {
        return await fn();
      } catch (err) {
        const c = (err as { code?: string }).code;
        const transient = c === 'EIO' || c === 'EBUSY';
        if (!transient || i >= attempts) {
          const finalCode: CloneErrorCode =
            c === 'EIO' ? 'EIO' : c === 'EDISCONNECTED' ? 'EIO' : code;
          throw new CloneError(finalCode, step, `${step} failed: ${(err as Error).message}`, {
            cause: err,
          });
        }
        await new Promise((r) => setTimeout(r, 200 * i));
      }
    }
  }
}

/** An exFAT label from a content id: up to 11 of its letters and digits, upper-case. */
export function labelFor(contentId: string): string {
  return (
    contentId
      .toUpperCase()
      .replace(/[^A-Z0-9_-]/g, '')
      .slice(0, 11) || 'DISKKIOSK'
  );
}
