/**
 * Storage: OS-level disk operations on slot disks (format exFAT, mount, read-only flag,
 * wipe, check, flush). The interface, its errors and its configuration. No I/O here.
 *
 * Every operation first resolves the device to a slot disk (by real path) through the
 * injected resolver and refuses anything else with `ENOTSLOTDISK`; a device holding a
 * system mount is refused too, whatever the resolver says.
 */
import type { SlotDisk } from '../drives/types.js';

/** Resolves a device to the slot disk it is, or undefined. `Drives.resolveSlotDisk` fits. */
export type SlotDiskResolver = (device: string) => Promise<SlotDisk | undefined>;

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

export interface Storage {
  /** Checks that the tools exist (mkfs.exfat, fsck.exfat, blockdev, wipefs, a mount driver). Rejects with `ETOOL` naming the missing one. */
  start(): Promise<void>;
  /** Nothing to release; idempotent. Mounts are left as they are. */
  stop(): Promise<void>;
  /** Wipes signatures, then `mkfs.exfat -L label`. Rejects `EINVAL` (label), `EREADONLY`, `EBUSY` (mounted), `ETOOL`. Takes ~1 s; not cancellable; timeout 5 min. */
  format(device: string, opts: FormatOptions): Promise<void>;
  /** Mounts the exFAT filesystem (kernel driver if `/proc/filesystems` lists exfat, else exfat-fuse) with noatime and uid/gid. Timeout 60 s. */
  mount(device: string, opts?: MountOptions): Promise<MountInfo>;
  /** Unmounts every mount of the device. Retries on EBUSY until `timeoutMs`, then lazy-unmounts (warning logged) unless `noLazy`. Resolves when nothing is mounted. */
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
  | 'ENOTMOUNTED'; // simulator: no such mount

export class StorageError extends Error {
  override readonly name = 'StorageError';
  /** For ETOOL: the tool, its exit code and its stderr. */
  tool?: string;
  exitCode?: number;
  stderr?: string;
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown; tool?: string; exitCode?: number; stderr?: string },
  ) {
    super(message, options);
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
