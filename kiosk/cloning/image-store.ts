/**
 * Block images of content, one per content version and disk capacity class, kept in the
 * content cache. ensure() returns a ready image or builds it once (concurrent callers for
 * the same image share the build):
 *
 *   sparse file the size of the class (rounded down to 1 MiB) -> mkfs.exfat (cluster size
 *   chosen for this content, see chooseClusterBytes) -> mount -> the file pipeline's rsync
 *   from a staging view of the cache, then the identity file at a fixed size (a placeholder
 *   each disk's identity replaces as a block patch) -> unmount -> mount again, SHA-256 of every file
 *   against the manifest (the image is proven before any disk is written from it) ->
 *   unmount -> `bmaptool create` -> ranges refined (per-disk patch blocks apart, at most
 *   `maxRangeBytes` each) and hashed in a worker -> the bmap written beside the image.
 *
 * An image counts against the cache's size limit with the bytes it takes on the cache's
 * file system, is evicted least-recently-used like content unless pinned, and is built
 * again when evicted. The content is pinned while an image is built from it.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BlockWorkers } from '../../hal/storage/block-io.js';
import { type BlockMap, parseBmap, refineRanges, serializeBmap } from '../../hal/storage/bmap.js';
import { patchRegions, type ReadAt } from '../../hal/storage/exfat-volume.js';
import { createBlockMap, formatImageFile } from '../../hal/storage/image-file.js';
import type { Storage } from '../../hal/storage/index.js';
import type { ContentCache } from '../content/content-cache.js';
import { type ImageRow, imageIdOf } from '../content/image-index.js';
import type { ContentManifest } from '../content/manifest.js';
import { IDENTITY_DIR } from '../content/paths.js';
import type { KioskLogger } from '../log.js';
import type { TimeSource } from '../state/clock.js';
import {
  IDENTITY_FILE,
  identityPlaceholder,
  identitySlotBytes,
  PER_DISK_IDENTITY_BYTES,
} from './identity.js';
import { labelFor } from './label.js';
import { copyFromCache } from './rsync-copy.js';
import { CloneError } from './types.js';
import { describeVerify, verifyTree } from './verify.js';

const MiB = 2 ** 20;
const KiB = 1024;

export interface ImageStoreOptions {
  /** Disk capacity classes in bytes (nominal sizes, e.g. 500e9). */
  classes: readonly number[];
  /** A disk fits a class when its capacity is at most this much above it. Default 1 (%). */
  slackPercent?: number;
  /** Parallel rsync processes filling an image. Default 4. */
  rsyncProcesses?: number;
  /** Files read at once while proving an image. Default 4. */
  verifyReaders?: number;
  /** Longest range of the refined block map. Default 16 MiB. */
  maxRangeBytes?: number;
}

export interface ImageStoreDeps {
  cache: Pick<
    ContentCache,
    | 'images'
    | 'imageFiles'
    | 'imagesDir'
    | 'evictImage'
    | 'makeRoom'
    | 'pin'
    | 'unpin'
    | 'blobPath'
    | 'blobs'
  >;
  /** Image mounts (to fill an image) and hashFiles (to prove it against its manifest). */
  storage: Pick<Storage, 'hashFiles' | 'mountImage' | 'unmountImage' | 'releaseImageMounts'>;
  clock: TimeSource;
  log: KioskLogger;
  options: ImageStoreOptions;
}

/** A ready image: its row, files and block map (ranges with their hashes). */
export interface ReadyImage {
  row: ImageRow;
  image: string;
  bmap: string;
  map: BlockMap;
  /** The image's volume length (the bytes a disk must have). */
  imageBytes: number;
}

export interface EnsureImageOptions {
  signal?: AbortSignal | undefined;
  /** Bytes of content copied into the image while it is built. */
  onProgress?: ((bytesDone: number, filesDone: number) => void) | undefined;
}

/** The capacity class of a disk: the largest class not above its capacity, if the disk is within `slackPercent` of it. */
export function classFor(
  capacityBytes: number,
  classes: readonly number[],
  slackPercent = 1,
): number | undefined {
  const c = [...classes].filter((x) => x <= capacityBytes).sort((a, b) => b - a)[0];
  if (c === undefined) return undefined;
  return capacityBytes <= c * (1 + slackPercent / 100) ? c : undefined;
}

/** An image's length for a class: the class rounded down to whole MiB. */
export const imageBytesOf = (classBytes: number) => Math.floor(classBytes / MiB) * MiB;

/**
 * The exFAT cluster size for content on a volume: the one that makes the bytes a disk gets
 * written smallest (the FAT and bitmap shrink with bigger clusters, the slack after each
 * file's end grows), preferring the largest cluster within 2% of that minimum (renters'
 * large files are then faster). 4 KiB to 128 KiB.
 */
export function chooseClusterBytes(
  files: readonly { size: number }[],
  volumeBytes: number,
): number {
  const cost = new Map<number, number>();
  for (let c = 4 * KiB; c <= 128 * KiB; c *= 2) {
    const clusters = volumeBytes / c;
    let data = 0;
    for (const f of files) data += Math.ceil(f.size / c) * c;
    cost.set(c, 4 * clusters + clusters / 8 + data);
  }
  const min = Math.min(...cost.values());
  return Math.max(...[...cost].filter(([, v]) => v <= min * 1.02).map(([c]) => c));
}

/**
 * What an image of these files takes on the cache disk (an upper estimate the cache makes
 * room for before the build): data in whole clusters, the identity file (its manifest: well
 * under 256 bytes a file, plus the per-disk room), FAT and bitmap, 4 MiB of the rest.
 */
export function estimatedImageBytes(
  files: readonly { size: number }[],
  volumeBytes: number,
  c = chooseClusterBytes(files, volumeBytes),
): number {
  let data = 0;
  for (const f of files) data += Math.ceil(f.size / c) * c;
  const identity = Math.ceil((256 * files.length + 3 * PER_DISK_IDENTITY_BYTES) / c) * c;
  return data + identity + (4 * volumeBytes) / c + volumeBytes / c / 8 + 4 * MiB;
}

export class ImageStore {
  private readonly building = new Map<string, Promise<ReadyImage>>();
  private readonly workers = new BlockWorkers(2);

  constructor(private readonly deps: ImageStoreDeps) {}

  /** Releases image mounts a crash left during a build (ContentCache.start() drops the half-built images). */
  async start(): Promise<void> {
    const released = await this.deps.storage.releaseImageMounts();
    if (released.length > 0)
      this.deps.log.warn({ released }, 'released mounts left by an interrupted image build');
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.building.values()]);
    await this.workers.close();
  }

  /** The class a disk of this capacity belongs to, or undefined (file mode). */
  classOf(capacityBytes: number): number | undefined {
    const o = this.deps.options;
    return classFor(capacityBytes, o.classes, o.slackPercent ?? 1);
  }

  /**
   * The ready image of `manifest` for `classBytes`, built now when missing (or evicted).
   * Rejects CloneError `EIMAGE` when it cannot be built (tool missing, cache full, the
   * content does not fit) and `EABORTED` on the signal; nothing is left half-built.
   */
  async ensure(
    m: ContentManifest,
    classBytes: number,
    opts: EnsureImageOptions = {},
  ): Promise<ReadyImage> {
    const id = imageIdOf(m.contentId, m.version, classBytes);
    for (;;) {
      const running = this.building.get(id);
      if (running) {
        await running.catch(() => undefined);
        continue; // built (or failed): look again
      }
      const row = this.deps.cache.images.get(id);
      if (row?.state === 'ready') {
        const ready = await this.load(row).catch(async (err: Error) => {
          this.deps.log.warn({ imageId: id, err: err.message }, 'image unusable: rebuilding it');
          await this.deps.cache.evictImage(row);
          return undefined;
        });
        if (ready) {
          this.deps.cache.images.touch(id, this.now());
          return ready;
        }
      }
      const p = this.build(m, classBytes, id, opts).finally(() => this.building.delete(id));
      this.building.set(id, p);
      return p;
    }
  }

  /** Drops an image whose bytes no longer match its map (it is built again when next needed). */
  async discard(imageId: string): Promise<void> {
    const row = this.deps.cache.images.get(imageId);
    if (row) await this.deps.cache.evictImage(row);
  }

  pin(imageId: string, pin: string): void {
    this.deps.cache.images.pin(imageId, pin, this.now());
  }

  unpin(imageId: string, pin: string): void {
    this.deps.cache.images.unpin(imageId, pin);
  }

  private async load(row: ImageRow): Promise<ReadyImage> {
    const f = this.deps.cache.imageFiles(row.imageId);
    const map = parseBmap(await readFile(f.bmap, 'utf8'));
    const st = await stat(f.image);
    if (st.size !== map.imageSize)
      throw new Error(`image is ${st.size} bytes, its map says ${map.imageSize}`);
    if (map.ranges.some((r) => !r.sha256))
      throw new Error('its block map has ranges without checksums');
    return { row, ...f, map, imageBytes: map.imageSize };
  }

  private async build(
    m: ContentManifest,
    classBytes: number,
    imageId: string,
    opts: EnsureImageOptions,
  ): Promise<ReadyImage> {
    const { cache, log } = this.deps;
    const imageBytes = imageBytesOf(classBytes);
    const clusterBytes = chooseClusterBytes(m.files, imageBytes);
    const estimate = estimatedImageBytes(m.files, imageBytes, clusterBytes);
    if (estimate > imageBytes)
      throw new CloneError(
        'EIMAGE',
        'copying',
        `content ${m.contentId}@${m.version} does not fit an image of the ${classBytes}-byte class`,
      );
    const files = cache.imageFiles(imageId);
    const pin = `image-${imageId}`;
    const mnt = `image-${imageId}-${randomUUID().slice(0, 8)}`;
    const started = Date.now();
    cache.pin(m.contentId, m.version, pin);
    try {
      await cache.makeRoom(estimate, `the image of ${m.contentId}@${m.version}`);
      cache.images.begin(
        {
          imageId,
          contentId: m.contentId,
          version: m.version,
          classBytes,
          clusterBytes,
          diskBytes: estimate,
        },
        this.now(),
      );
      log.info(
        { imageId, contentId: m.contentId, version: m.version, classBytes, clusterBytes },
        'building a block image',
      );
      await formatImageFile(files.image, {
        sizeBytes: imageBytes,
        label: labelFor(m.contentId),
        clusterBytes,
      });
      await this.fill(files.image, mnt, m, opts, identitySlotBytes(m, { imageId, classBytes }));
      const map = await this.mapImage(files.image, files.bmap, opts.signal);
      const diskBytes = (await allocated(files.image)) + (await allocated(files.bmap));
      const mapped = map.ranges.reduce((s, r) => s + r.length, 0);
      cache.images.markReady(imageId, { diskBytes, mappedBytes: mapped }, this.now());
      log.info(
        {
          imageId,
          mappedBytes: mapped,
          ranges: map.ranges.length,
          seconds: (Date.now() - started) / 1000,
        },
        'block image built',
      );
      const row = cache.images.get(imageId) as ImageRow;
      return { row, ...files, map, imageBytes };
    } catch (err) {
      await cache
        .evictImage({ imageId, contentId: m.contentId, version: m.version })
        .catch(() => undefined);
      if (err instanceof CloneError) throw err;
      const aborted = opts.signal?.aborted || (err as { code?: string }).code === 'EABORTED';
      throw new CloneError(
        aborted ? 'EABORTED' : 'EIMAGE',
        'copying',
        `building the block image of ${m.contentId}@${m.version} failed: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      cache.unpin(pin, m.contentId, m.version);
    }
  }

  /**
   * Copies the content into the image with the file pipeline, adds the identity file at its
   * fixed size (a placeholder: every disk gets its own as a patch), then proves every file.
   */
  private async fill(
    image: string,
    name: string,
    m: ContentManifest,
    opts: EnsureImageOptions,
    identityBytes: number,
  ): Promise<void> {
    const o = this.deps.options;
    const { cache, storage } = this.deps;
    const rw = await storage.mountImage(image, name);
    try {
      await copyFromCache(
        { blobPath: (h) => cache.blobPath(h), stagingDir: cache.blobs.stagingDir },
        m,
        rw.mountpoint,
        { processes: o.rsyncProcesses ?? 4, signal: opts.signal, onProgress: opts.onProgress },
      );
      // Written last and in one piece, so that its clusters are one run (fileExtent).
      await mkdir(path.join(rw.mountpoint, IDENTITY_DIR), { recursive: true });
      await writeFile(path.join(rw.mountpoint, IDENTITY_FILE), identityPlaceholder(identityBytes), {
        flush: true,
      });
    } finally {
      await storage.unmountImage(rw.mountpoint);
    }
    const ro = await storage.mountImage(image, name, { readOnly: true });
    try {
      const v = await verifyTree(ro.mountpoint, m, {
        hashFiles: (f, ho) => storage.hashFiles(f, ho),
        readers: o.verifyReaders ?? 4,
        signal: opts.signal,
      });
      if (!v.ok) throw new Error(`the image does not hold the content: ${describeVerify(v)}`);
    } finally {
      await storage.unmountImage(ro.mountpoint);
    }
  }

  /** `bmaptool create`, ranges refined and hashed, the bmap written (temp file + rename). */
  private async mapImage(image: string, bmap: string, signal?: AbortSignal): Promise<BlockMap> {
    const raw = parseBmap(await createBlockMap(image, `${bmap}.tmp`));
    const fh = await open(image, 'r');
    let regions: { offset: number; length: number }[];
    try {
      const readAt: ReadAt = async (offset, length) => {
        const b = Buffer.alloc(length);
        await fh.read(b, 0, length, offset);
        return b;
      };
      regions = await patchRegions(readAt, raw.blockSize, [IDENTITY_FILE]);
    } finally {
      await fh.close();
    }
    const ranges = refineRanges(raw.ranges, regions, this.deps.options.maxRangeBytes ?? 16 * MiB);
    const h = await this.workers.run(
      { op: 'hash-ranges', image, ranges, gapBytes: MiB, chunkBytes: 16 * MiB },
      { signal },
    );
    ranges.forEach((r, i) => {
      r.sha256 = h.sha256[i];
    });
    const map: BlockMap = { imageSize: raw.imageSize, blockSize: raw.blockSize, ranges };
    await writeFile(`${bmap}.tmp`, serializeBmap(map));
    await rename(`${bmap}.tmp`, bmap);
    return map;
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/** Bytes a file takes on its file system (a sparse image takes what is mapped). */
async function allocated(file: string): Promise<number> {
  return (await stat(file)).blocks * 512;
}
