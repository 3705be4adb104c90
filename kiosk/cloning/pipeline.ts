/**
 * The cloning pipeline, in one of two modes per disk:
 *
 * Image mode (docs/cloning.md), when the disk's capacity fits a configured class: the
 * content's block image for that class (ImageStore: built once, then cached) is written
 * to the disk, only its mapped blocks, sequentially with O_DIRECT, with a fresh volume
 * serial, the label and the disk's identity file patched in on the way -> every mapped
 * range re-read from the device with O_DIRECT and checked against the block map's SHA-256
 * -> read-only flag and relay. No mount: only when the identity cannot be patched (an
 * image without the file at a fixed size, a fragmented one, an identity too long for it)
 * is it written through a mount afterwards, as in file mode. If image mode cannot serve
 * the disk (no class, the image cannot be built, the image itself went bad), file mode
 * takes over.
 *
 * File mode: format (exFAT, label) -> mount -> rsync from a staging view of
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
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Semaphore } from '../../common/semaphore.js';
import { type BlockPatch, type BlockRange, coalesce } from '../../hal/storage/block-io.js';
import { mappedBytes } from '../../hal/storage/bmap.js';
import { fileExtent, formatSerial, volumePatches } from '../../hal/storage/exfat-volume.js';
import type { ContentManifest } from '../content/manifest.js';
import type { KioskLogger } from '../log.js';
import type { TimeSource } from '../state/clock.js';
import { type DiskIdentity, IDENTITY_FILE, paddedIdentity, writeIdentity } from './identity.js';
import type { ImageStore } from './image-store.js';
import { labelFor } from './label.js';
import { ProgressMeter } from './progress-meter.js';
import { copyFromCache } from './rsync-copy.js';
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
  /** Block images per capacity class; without it every disk is cloned in file mode. */
  images?: Pick<ImageStore, 'classOf' | 'ensure' | 'discard' | 'pin' | 'unpin'>;
  /** Told after every clone that started (kioskd's metrics: prepare throughput). */
  onFinished?: (f: CloneFinished) => void;
}

/** One clone's end: its mode (undefined when it failed), bytes verified, wall time. */
export interface CloneFinished {
  ok: boolean;
  mode?: 'image' | 'file';
  bytes: number;
  seconds: number;
}

/** Gaps between mapped ranges up to this long are written too (long sequential I/O). */
const GAP_BYTES = 2 ** 20;

/** What one clone's steps share. */
interface CloneContext {
  log: KioskLogger;
  emit(p: CloneProgress): void;
  stepOnly(step: CloneStep): void;
  aborted(): void;
  mountOpts(readOnly: boolean): { readOnly: boolean; mountpoint?: string };
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
  mode: 'image' | 'file';
}

export class ClonePipeline {
  private readonly limiter: Semaphore;

  constructor(private readonly deps: ClonePipelineDeps) {
    this.limiter = new Semaphore(deps.options?.concurrency ?? 2);
  }

  /** Clones one disk; waits for a free pipeline first (abort while waiting rejects EABORTED). */
  run(job: CloneJob): Promise<CloneResult> {
    return this.limiter
      .run(() => this.timed(job), job.signal)
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

  private async timed(job: CloneJob): Promise<CloneResult> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const r = await this.clone(job);
      this.deps.onFinished?.({
        ok: true,
        mode: r.mode,
        bytes: r.verifiedBytes,
        seconds: seconds(),
      });
      return r;
    } catch (err) {
      this.deps.onFinished?.({ ok: false, bytes: 0, seconds: seconds() });
      throw err;
    }
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
    const ctx: CloneContext = {
      log,
      emit: (p) => job.onProgress?.(p),
      stepOnly: (step) =>
        job.onProgress?.(new ProgressMeter(step, m.totalBytes, m.files.length).sample(0, 0)),
      aborted: () => {
        if (job.signal?.aborted)
          throw new CloneError('EABORTED', 'copying', `clone of slot ${job.slot} cancelled`);
      },
      mountOpts: (readOnly) => ({ readOnly, ...(mountpoint ? { mountpoint } : {}) }),
    };
    try {
      const cls = this.deps.images?.classOf(job.capacityBytes);
      if (cls !== undefined) {
        try {
          return await this.cloneImage(job, cls, ctx);
        } catch (err) {
          if (!(err instanceof CloneError) || err.code !== 'EIMAGE' || job.signal?.aborted)
            throw err;
          log.warn({ err: err.message }, 'image mode cannot serve this disk: copying file by file');
        }
      }
      return await this.cloneFiles(job, ctx);
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
    }
  }

  /** Image mode: write the class's image (mapped blocks, patched), verify from the device. */
  private async cloneImage(job: CloneJob, cls: number, ctx: CloneContext): Promise<CloneResult> {
    const { storage } = this.deps;
    const images = this.deps.images as NonNullable<ClonePipelineDeps['images']>;
    const m = job.manifest;
    ctx.stepOnly('formatting');
    await storage.setReadOnly(job.device, false).catch(() => undefined);
    await this.deps.relay.setWriteProtect(job.slot, false);
    await this.step('formatting', 'EFORMAT', () => storage.unmount(job.device));
    ctx.aborted();
    const build = new ProgressMeter('copying', m.totalBytes, m.files.length);
    const img = await images.ensure(m, cls, {
      signal: job.signal,
      onProgress: (b, f) => ctx.emit(build.sample(b, f)),
    });
    const pin = `clone-slot-${job.slot}`;
    images.pin(img.row.imageId, pin);
    try {
      const serial = randomBytes(4).readUInt32LE(0);
      const image = {
        imageId: img.row.imageId,
        classBytes: cls,
        volumeSerial: formatSerial(serial),
      };
      const preparedAt = this.deps.clock.now().toISOString();
      const identity = this.identityOf(job, preparedAt, image);
      const { patches, identityPatched, why } = await imagePatches(
        img.image,
        serial,
        job.label ?? labelFor(m.contentId),
        identity,
        img.map.ranges,
      );
      if (!identityPatched)
        ctx.log.info(
          { why },
          'the identity file is written through a mount after the verification',
        );
      const io = { image: img.image, ranges: img.map.ranges, patches, gapBytes: GAP_BYTES };
      const total = coalesce(img.map.ranges, GAP_BYTES).reduce((s, e) => s + e.length, 0);
      const write = new ProgressMeter('copying', total, m.files.length);
      ctx.emit(write.sample(0, 0));
      await this.blockStep('copying', img.row.imageId, () =>
        storage.writeImage(job.device, {
          ...io,
          imageBytes: img.imageBytes,
          signal: job.signal,
          onProgress: (b) => ctx.emit(write.sample(b, 0)),
        }),
      );
      ctx.emit(write.sample(total, m.files.length));
      ctx.aborted();
      const mapped = mappedBytes(img.map);
      const check = new ProgressMeter('verifying', mapped, m.files.length);
      ctx.emit(check.sample(0, 0));
      const v = await this.blockStep('verifying', img.row.imageId, () =>
        storage.verifyImage(job.device, {
          ...io,
          signal: job.signal,
          onProgress: (b) => ctx.emit(check.sample(b, 0)),
        }),
      );
      if (v.mismatched.some((x) => x.image === 'corrupt')) {
        await images.discard(img.row.imageId);
        throw new CloneError(
          'EIMAGE',
          'verifying',
          `the block image of ${m.contentId}@${m.version} no longer matches its block map (cache disk?); it was discarded`,
        );
      }
      if (v.mismatched.length > 0) {
        const first = v.mismatched[0];
        throw new CloneError(
          'EVERIFY',
          'verifying',
          `disk ${job.diskId} in slot ${job.slot} does not hold what was written: ${v.mismatched.length} range(s) differ, the first at byte ${first?.offset}`,
        );
      }
      ctx.emit(check.sample(mapped, m.files.length));
      return await this.finish(job, ctx, v.bytesRead, 'image', {
        identity,
        written: identityPatched,
      });
    } finally {
      images.unpin(img.row.imageId, pin);
    }
  }

  /** File mode: format, rsync, flush, verify every file through a fresh read-only mount. */
  private async cloneFiles(job: CloneJob, ctx: CloneContext): Promise<CloneResult> {
    const { storage } = this.deps;
    const o = this.deps.options ?? {};
    const m = job.manifest;
    ctx.stepOnly('formatting');
    await storage.setReadOnly(job.device, false).catch(() => undefined);
    await this.deps.relay.setWriteProtect(job.slot, false);
    await this.step('formatting', 'EFORMAT', () =>
      storage
        .unmount(job.device)
        .then(() => storage.format(job.device, { label: job.label ?? labelFor(m.contentId) })),
    );
    ctx.aborted();
    const mnt = await this.step('copying', 'EMOUNT', () =>
      storage.mount(job.device, ctx.mountOpts(false)),
    );
    const copyMeter = new ProgressMeter('copying', m.totalBytes, m.files.length);
    ctx.emit(copyMeter.sample(0, 0));
    await copyFromCache(this.deps.cache, m, mnt.mountpoint, {
      processes: o.rsyncProcesses ?? 4,
      signal: job.signal,
      attempts: o.attempts ?? 3,
      onProgress: (b, f) => ctx.emit(copyMeter.sample(b, f)),
    });
    ctx.emit(copyMeter.sample(m.totalBytes, m.files.length));
    ctx.aborted();
    ctx.stepOnly('flushing');
    await this.step('flushing', 'EIO', () => storage.flush(job.device));
    await this.step('flushing', 'EMOUNT', () => storage.unmount(job.device, { noLazy: true }));
    await this.step('verifying', 'EIO', () => storage.dropCaches(job.device));
    const ro = await this.step('verifying', 'EMOUNT', () =>
      storage.mount(job.device, ctx.mountOpts(true)),
    );
    const vMeter = new ProgressMeter('verifying', m.totalBytes, m.files.length);
    ctx.emit(vMeter.sample(0, 0));
    const v = await verifyTree(ro.mountpoint, m, {
      hashFiles: (f, ho) => storage.hashFiles(f, ho),
      readers: o.verifyReaders ?? 4,
      signal: job.signal,
      onProgress: (b, f) => ctx.emit(vMeter.sample(b, f)),
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
    ctx.emit(vMeter.sample(m.totalBytes, m.files.length));
    const identity = this.identityOf(job, this.deps.clock.now().toISOString());
    return await this.finish(job, ctx, v.bytesRead, 'file', { identity, written: false });
  }

  /** The identity a disk of this job gets. */
  private identityOf(
    job: CloneJob,
    preparedAt: string,
    image?: DiskIdentity['image'],
  ): DiskIdentity {
    const m = job.manifest;
    return {
      format: 1,
      diskId: job.diskId,
      contentId: m.contentId,
      contentVersion: m.version,
      preparedAt,
      kioskId: this.deps.kioskId,
      writeProtect: job.writeProtect,
      manifest: m,
      ...(image ? { image } : {}),
    };
  }

  /**
   * The identity file unless it was written with the image (then the disk is not mounted
   * at all; else mount, write, flush, unmount), read-only flag and relay as ordered.
   */
  private async finish(
    job: CloneJob,
    ctx: CloneContext,
    verifiedBytes: number,
    mode: 'image' | 'file',
    id: { identity: DiskIdentity; written: boolean },
  ): Promise<CloneResult> {
    const { storage } = this.deps;
    const m = job.manifest;
    const { identity } = id;
    const image = identity.image;
    ctx.stepOnly('configuring');
    if (!id.written) {
      const rw = await this.step('configuring', 'EMOUNT', () =>
        storage.mount(job.device, ctx.mountOpts(false)),
      );
      await this.step('configuring', 'ECONFIGURE', () => writeIdentity(rw.mountpoint, identity));
      await this.step('configuring', 'EIO', () => storage.flush(job.device));
      await this.step('configuring', 'EMOUNT', () => storage.unmount(job.device, { noLazy: true }));
    }
    if (job.writeProtect) {
      await this.step('configuring', 'ECONFIGURE', () => storage.setReadOnly(job.device, true));
    }
    await this.step('configuring', 'ECONFIGURE', () =>
      this.deps.relay.setWriteProtect(job.slot, job.writeProtect),
    );
    ctx.emit({
      step: 'done',
      bytesDone: m.totalBytes,
      bytesTotal: m.totalBytes,
      filesDone: m.files.length,
      filesTotal: m.files.length,
      rateBps: 0,
      etaSeconds: 0,
    });
    ctx.log.info(
      { bytes: m.totalBytes, files: m.files.length, mode, ...(image ? { image } : {}) },
      'disk prepared and verified',
    );
    return { diskId: job.diskId, preparedAt: identity.preparedAt, verifiedBytes, mode };
  }

  /**
   * A bulk transfer of image mode: the disk failing or going away is `EIO` (the slot
   * faults), a missing or unreadable image is `EIMAGE` (file mode takes over).
   */
  private async blockStep<R>(step: CloneStep, imageId: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      const c = (err as { code?: string }).code;
      const msg = `${step} failed: ${(err as Error).message}`;
      if (c === 'EABORTED') throw new CloneError('EABORTED', step, msg, { cause: err });
      if (c === 'EINVAL' || c === 'ENOTSUPPORTED') {
        await this.deps.images?.discard(imageId).catch(() => undefined);
        throw new CloneError('EIMAGE', step, msg, { cause: err });
      }
      throw new CloneError('EIO', step, msg, { cause: err });
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

/** The per-disk patches of an image, and whether the identity file is among them (else why not). */
export interface ImagePatches {
  patches: BlockPatch[];
  identityPatched: boolean;
  why?: string;
}

/**
 * The per-disk patches (volume serial, label, and the identity file when given and the
 * image holds it at a fixed size in one run of clusters), from the image's boot region,
 * root and identity directory. The identity not fitting is no error: `identityPatched` is
 * false and `why` says why (the caller writes it through a mount).
 */
export async function imagePatches(
  image: string,
  serial: number,
  label: string,
  identity?: DiskIdentity,
  /** The map's ranges: the identity is patched only where all of its bytes are mapped. */
  mapped?: readonly BlockRange[],
): Promise<ImagePatches> {
  const fh = await open(image, 'r').catch((err: Error) => {
    throw new CloneError('EIMAGE', 'copying', `cannot open the image: ${err.message}`);
  });
  const readAt = async (offset: number, length: number) => {
    const b = Buffer.alloc(length);
    await fh.read(b, 0, length, offset);
    return b;
  };
  try {
    const patches = await volumePatches(readAt, { serial, label });
    if (!identity) return { patches, identityPatched: false, why: 'no identity asked for' };
    const at = await fileExtent(readAt, IDENTITY_FILE).catch((err: Error) => err);
    if (at instanceof Error) return { patches, identityPatched: false, why: at.message };
    const bytes = paddedIdentity(identity, at.length);
    if (!bytes)
      return {
        patches,
        identityPatched: false,
        why: `the identity is longer than the image's ${at.length}-byte identity file`,
      };
    // Only mapped blocks are written and verified: a patch outside them would be dropped.
    const end = at.offset + at.length;
    if (
      mapped &&
      !coalesce(mapped, 0).some((e) => e.offset <= at.offset && end <= e.offset + e.length)
    )
      return {
        patches,
        identityPatched: false,
        why: "the image's block map does not cover its identity file",
      };
    return { patches: [...patches, { offset: at.offset, bytes }], identityPatched: true };
  } catch (err) {
    if (err instanceof CloneError) throw err;
    throw new CloneError(
      'EIMAGE',
      'copying',
      `the image is not a usable exFAT volume: ${(err as Error).message}`,
    );
  } finally {
    await fh.close();
  }
}
