/**
 * Storage: OS-level disk operations on slot disks (format exFAT, mount, read-only flag,
 * wipe, check, flush). The interface, its errors and its configuration. No I/O here.
 *
 * Every operation first resolves the device to a slot disk (by real path) through the
 * injected resolver and refuses anything else with `ENOTSLOTDISK`; a device holding a
 * system mount is refused too, whatever the resolver says.
 */
import { CodedError } from '../../common/coded-error.js';
import type { SlotDisk } from '../drives/types.js';

// The block-level data the interface carries (hal/storage/block-io.ts does the I/O).

/** A byte range of an image (and of the device it is written to). */
export interface BlockRange {
  offset: number;
  length: number;
  /** SHA-256 (hex) of the range's bytes in the image, as the block map records it. */
  sha256?: string;
}

/** Bytes that replace the image's at `offset` on this one device (volume serial, label). */
export interface BlockPatch {
  offset: number;
  bytes: Uint8Array;
}

export interface VerifyMismatch {
  offset: number;
  length: number;
  /** `corrupt`: the image file itself no longer matches its map (the disk is not to blame). */
  image: 'ok' | 'corrupt';
}

export type FileHash = { sha256: string; size: number } | { error: string; code: string };

/** Resolves a device to the slot disk it is, or undefined. `Drives.resolveSlotDisk` fits. */
/**
 * The slot disk `device` is, if any. `fresh`: answer from a new scan of the disks, never from
 * one kept a moment (asked before anything is written to the device).
 */
export type SlotDiskResolver = (
  device: string,
  opts?: { fresh?: boolean },
) => Promise<SlotDisk | undefined>;

/** pino-compatible logger subset. */
export interface StorageLogger {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface FormatOptions {
  /** exFAT volume label: 1-11 UTF-16 units, no control characters nor `" * / : < > ? \ |`. */
  label: string;
}

export interface MountOptions {
  /** Where to mount; default `<mountRoot>/slot-<slot>`, created if missing. */
  mountpoint?: string;
  /** Mount read-only. A device whose read-only flag is set must be mounted with this (else `EREADONLY`). */
  readOnly?: boolean;
  /** Owner of the files as seen through the mount (exFAT has no owners). Default: config uid/gid or 0. */
  uid?: number;
  gid?: number;
}

export interface MountInfo {
  device: string;
  mountpoint: string;
  /** `kernel` (exfat module) or `fuse` (mount.exfat-fuse); `sim` for the simulator. */
  driver: 'kernel' | 'fuse' | 'sim';
  readOnly: boolean;
}

export interface UnmountOptions {
  /** Keep retrying on EBUSY this long, then lazy-unmount with a logged warning. Default 10 000 ms. */
  timeoutMs?: number;
  /** Never lazy-unmount: reject with `EBUSY` instead. Default false. */
  noLazy?: boolean;
}

export interface WipeProgress {
  bytesWritten: number;
  totalBytes: number;
}

export interface FullWipeOptions {
  /** Called after each chunk (at most every 4 MiB). */
  onProgress?: (p: WipeProgress) => void;
  /** Aborting stops between chunks and rejects with `EABORTED`; the device is then partly zeroed. */
  signal?: AbortSignal;
}

export interface CheckResult {
  /** True when `fsck.exfat -n` found a clean exFAT filesystem. */
  clean: boolean;
  exitCode: number;
  output: string;
}

export interface ProbeResult {
  /** `exfat`, `vfat`, ...; undefined when blkid finds no signature. */
  fsType?: string;
  label?: string;
  uuid?: string;
}

export interface DropCachesResult {
  /** What was done: `flushbufs` (the device's buffer cache), `drop_caches` (global page cache, root only). */
  applied: Array<'flushbufs' | 'drop_caches'>;
}

export interface ImageWriteOptions {
  /** The image file (an exFAT volume the size of the disk's capacity class). */
  image: string;
  /** Its length: the device must be at least this big. */
  imageBytes: number;
  /** The mapped ranges (a block map's), sorted. */
  ranges: readonly BlockRange[];
  /** Per-disk bytes written over the image's (volume serial, label). */
  patches?: readonly BlockPatch[];
  /** Gaps between ranges up to this long are written too (as the image holds them), so the disk sees long sequential writes. Default 1 MiB. */
  gapBytes?: number;
  /** I/O size. Default 8 MiB. */
  chunkBytes?: number;
  /** Aborting stops between chunks and rejects `EABORTED` (the disk is then half written). */
  signal?: AbortSignal | undefined;
  /** Bytes written or read so far. */
  onProgress?: ((bytes: number) => void) | undefined;
}

export interface ImageVerifyResult {
  /** Mapped bytes read back from the device. */
  bytesRead: number;
  /** Ranges whose bytes on the device differ from the map's (with the patches applied). */
  mismatched: VerifyMismatch[];
}

export interface HashFilesOptions {
  /** Worker threads used at most. Default 2. */
  workers?: number;
  /** Files each worker reads at once. Default 2. */
  concurrency?: number;
  /** The files' expected sizes, to balance the workers. */
  sizes?: readonly number[];
  signal?: AbortSignal | undefined;
  /** Bytes hashed so far. */
  onProgress?: ((bytes: number) => void) | undefined;
}

export interface Storage {
  /** Checks that the tools exist (mkfs.exfat, fsck.exfat, blockdev, wipefs, a mount driver). Rejects with `ETOOL` naming the missing one. */
  start(): Promise<void>;
  /** Nothing to release; idempotent. Mounts are left as they are. */
  stop(): Promise<void>;
  /** Wipes signatures, then `mkfs.exfat -L label`. Rejects `EINVAL` (label), `EREADONLY`, `EBUSY` (mounted), `ETOOL`. Takes ~1 s; not cancellable; timeout 5 min. */
  format(device: string, opts: FormatOptions): Promise<void>;
  /** Mounts the exFAT filesystem (kernel driver if `/proc/filesystems` lists exfat, else exfat-fuse) with noatime and uid/gid. Timeout 60 s. */
  mount(device: string, opts?: MountOptions): Promise<MountInfo>;
  /** Unmounts every mount of the device. Retries on EBUSY until `timeoutMs`, then lazy-unmounts (warning logged) unless `noLazy`. After a plain unmount, waits (until `timeoutMs`, at least 1 s) for whatever still holds the device (an exfat-fuse daemon finishing) to let go: `noLazy` then rejects `EBUSY` if it does not, else a warning is logged. Resolves when nothing is mounted. */
  unmount(device: string, opts?: UnmountOptions): Promise<void>;
  /** `blockdev --setro/--setrw`, verified with `--getro`; rejects `EVERIFY` if it does not read back. */
  setReadOnly(device: string, readOnly: boolean): Promise<void>;
  /** `blockdev --getro`. */
  isReadOnly(device: string): Promise<boolean>;
  /** `wipefs -a` and zeroes of the first and last MiB. Rejects `EREADONLY`, `EBUSY` (mounted), `ETOOL`. Seconds; not cancellable. */
  quickWipe(device: string): Promise<void>;
  /** Overwrites the whole device with zeros and flushes. Cancel with the signal (`EABORTED`); no timeout (hours on a big disk). */
  fullWipe(device: string, opts?: FullWipeOptions): Promise<void>;
  /** `fsck.exfat -n` (read-only check). Resolves with the verdict; rejects `ETOOL` only when the tool cannot run. Timeout 10 min. */
  check(device: string): Promise<CheckResult>;
  /** `blkid -p`: filesystem type, label, uuid of what is on the device now. */
  probe(device: string): Promise<ProbeResult>;
  /** syncfs of its mounts, fsync of the device, then `blockdev --flushbufs`: everything written is on the disk. */
  flush(device: string): Promise<void>;
  /**
   * Makes the next reads come from the disk, not from caches, for verification. Node has
   * no posix_fadvise: this flushes and invalidates the device's buffer cache
   * (`blockdev --flushbufs`) and, when root, writes 1 to /proc/sys/vm/drop_caches (global
   * clean page cache). Files read through a mounted filesystem are only guaranteed fresh
   * after an unmount and mount, which the cloning pipeline should prefer.
   */
  dropCaches(device: string): Promise<DropCachesResult>;
  /**
   * Writes the mapped ranges of a block image to the device, sequentially with O_DIRECT,
   * the patches applied on the way, then fdatasync. Refuses a mounted or read-only device
   * (`EBUSY`, `EREADONLY`) and one smaller than the image (`EINVAL`). Rejects `EIO` or
   * `EDISCONNECTED` when the disk fails or goes away, `EABORTED` on the signal,
   * `ENOTSUPPORTED` where the driver has no block devices (the simulator). Runs in a worker
   * thread; no timeout (as long as the disk takes).
   */
  writeImage(device: string, opts: ImageWriteOptions): Promise<{ bytesWritten: number }>;
  /**
   * Re-reads the mapped ranges from the device with O_DIRECT (not from any cache) and
   * compares each with the map's SHA-256 (recomputed from the image for patched ranges).
   * A mismatch is reported, not thrown; each names whether the image still matches its map.
   * Rejects like writeImage. Runs in a worker thread; no timeout.
   */
  verifyImage(
    device: string,
    opts: Omit<ImageWriteOptions, 'imageBytes'>,
  ): Promise<ImageVerifyResult>;
  /**
   * SHA-256 of whole files (those of a mounted disk, for file-mode verification), read and
   * hashed in worker threads so the main thread stays free. Resolves per file, in order,
   * with `{ sha256, size }` or `{ error, code }` (ENOENT for a missing file). Rejects only
   * `EABORTED` (signal). No timeout.
   */
  hashFiles(files: readonly string[], opts?: HashFilesOptions): Promise<FileHash[]>;
  /**
   * Mounts an exFAT block image file of the content cache at `<mountRoot>/<name>` (name:
   * 1-64 of A-Z a-z 0-9 _ -, starting `image-`), through a loop device (root, or the
   * storage helper's `mount-image`) or exfat-fuse on the file (a development machine
   * without root). Rejects `EINVAL` (name), `ETOOL`, `ENOTSUPPORTED` (simulator). 60 s.
   */
  mountImage(file: string, name: string, opts?: { readOnly?: boolean }): Promise<MountInfo>;
  /** Unmounts an image mounted by mountImage (its loop device goes with it). 60 s. */
  unmountImage(mountpoint: string): Promise<void>;
  /** Lazily unmounts every image mount below the mount root (left by a crash); resolves with their mount points. Never rejects. */
  releaseImageMounts(): Promise<string[]>;
}

export type StorageErrorCode =
  | 'ETOOL' // a system tool failed: see .tool, .exitCode, .stderr
  | 'EBUSY' // mounted or in use
  | 'ENOTSLOTDISK' // the device is not a disk in a calibrated slot (or is a system disk)
  | 'EREADONLY' // the device's read-only flag is set
  | 'EINVAL' // bad argument (label)
  | 'EABORTED' // cancelled through the AbortSignal
  | 'EDISCONNECTED' // the disk went away during the operation
  | 'EIO' // the disk reports an I/O error
  | 'EVERIFY' // a setting did not read back
  | 'ENOTMOUNTED' // simulator: no such mount
  | 'ENOTSUPPORTED'; // the driver cannot do this (block images on directory disks)

export class StorageError extends CodedError<StorageErrorCode> {
  /** For ETOOL: the tool, its exit code and its stderr. */
  tool?: string;
  exitCode?: number;
  stderr?: string;
  constructor(
    code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown; tool?: string; exitCode?: number; stderr?: string },
  ) {
    super(code, message, options);
    if (options?.tool !== undefined) this.tool = options.tool;
    if (options?.exitCode !== undefined) this.exitCode = options.exitCode;
    if (options?.stderr !== undefined) this.stderr = options.stderr;
  }
}

export interface StorageOptions {
  /** Refuses every device it does not resolve. Required. */
  resolveSlotDisk: SlotDiskResolver;
  /** Default parent of mountpoints. Default `/run/disk-kiosk/mnt`. */
  mountRoot?: string;
  /** Default uid/gid for mounts. */
  uid?: number;
  gid?: number;
  log?: StorageLogger;
}

export const DEFAULT_MOUNT_ROOT = '/run/disk-kiosk/mnt';
export const EXFAT_LABEL_MAX = 11;
