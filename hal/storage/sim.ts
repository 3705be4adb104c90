/**
 * The storage simulator, for directory-backed fake disks (see hal/drives/dir-disk.ts):
 * format empties `<dir>/data` and records the label; mount hands out `<dir>/data` (or a
 * symlink to it at the requested mountpoint); the read-only flag makes every write
 * operation fail with `EREADONLY`. Faults are injectable through `faults`. Block devices
 * (loop devices) are refused: use the real driver for those.
 */
import { lstat, mkdir, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  type DirDiskMeta,
  dirDiskDataDir,
  readDirDiskMeta,
  writeDirDiskMeta,
} from '../drives/index.js';
import { BlockWorkers, type FileHash } from './block-io.js';
import { type Guarded, requireSlotDisk } from './guard.js';
import { validateExfatLabel } from './label.js';
import {
  type CheckResult,
  type DropCachesResult,
  type FormatOptions,
  type FullWipeOptions,
  type HashFilesOptions,
  type ImageVerifyResult,
  type MountInfo,
  type MountOptions,
  type ProbeResult,
  type Storage,
  StorageError,
  type StorageOptions,
  type UnmountOptions,
} from './types.js';

export interface SimStorageFaults {
  /** The next formats fail with ETOOL (tool `mkfs.exfat`) while true. */
  mkfsFails?: boolean;
  /** The Nth storage operation from now (1 = the next one) fails with EIO. */
  ioErrorOnOp?: number;
  /** This many unmount attempts report "target is busy" before one succeeds. */
  busyUnmounts?: number;
}

const CHUNK = 4 * 2 ** 20;

export class SimStorage implements Storage {
  /** Mutable: tests set faults at any time. */
  readonly faults: SimStorageFaults;
  #ops = 0;
  readonly #workers = new BlockWorkers();

  constructor(private readonly opts: StorageOptions & { faults?: SimStorageFaults }) {
    this.faults = { ...opts.faults };
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {
    await this.#workers.close();
  }

  /** Hashes the files (a directory disk's, under its mount) in worker threads, like the real driver. */
  hashFiles(files: readonly string[], opts: HashFilesOptions = {}): Promise<FileHash[]> {
    return this.#workers.hashFiles(files, opts);
  }

  async format(device: string, opts: FormatOptions): Promise<void> {
    validateExfatLabel(opts.label);
    const { g, meta } = await this.#writable(device, 'format');
    if (this.faults.mkfsFails) {
      throw new StorageError(
        'ETOOL',
        `mkfs.exfat -L ${opts.label} ${device} failed (exit 1): simulated mkfs failure`,
        {
          tool: 'mkfs.exfat',
          exitCode: 1,
          stderr: 'simulated mkfs failure\n',
        },
      );
    }
    await this.#emptyData(g.device);
    await writeDirDiskMeta(g.device, { ...meta, fsType: 'exfat', label: opts.label });
  }

  async mount(device: string, opts: MountOptions = {}): Promise<MountInfo> {
    const { g, meta } = await this.#op(device, 'mount');
    if (meta.mountpoint)
      throw new StorageError('EBUSY', `${device} is already mounted at ${meta.mountpoint}`);
    if (meta.fsType !== 'exfat') {
      throw new StorageError(
        'ETOOL',
        `mount of ${device} failed (exit 1): no exFAT filesystem (format it first)`,
        {
          tool: 'mount.exfat-fuse',
          exitCode: 1,
          stderr: 'ERROR: exFAT file system is not found.\n',
        },
      );
    }
    const readOnly = opts.readOnly ?? false;
    if (!readOnly && meta.readOnly) {
      throw new StorageError(
        'EREADONLY',
        `${device} has its read-only flag set: mount it with readOnly`,
      );
    }
    const data = dirDiskDataDir(g.device);
    let mountpoint = data;
    if (opts.mountpoint) {
      mountpoint = path.resolve(opts.mountpoint);
      await mkdir(path.dirname(mountpoint), { recursive: true });
      await rm(mountpoint, { recursive: false, force: true }).catch(() => undefined);
      await symlink(data, mountpoint, 'dir');
    }
    await writeDirDiskMeta(g.device, { ...meta, mountpoint });
    return { device: g.device, mountpoint, driver: 'sim', readOnly };
  }

  async unmount(device: string, opts: UnmountOptions = {}): Promise<void> {
    const { g, meta } = await this.#op(device, 'unmount');
    if (!meta.mountpoint) return;
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    while ((this.faults.busyUnmounts ?? 0) > 0) {
      this.faults.busyUnmounts = (this.faults.busyUnmounts ?? 0) - 1;
      if (Date.now() + 20 > deadline) {
        if (opts.noLazy)
          throw new StorageError('EBUSY', `${meta.mountpoint} stays busy (simulated)`);
        this.opts.log?.warn(
          { device, mountpoint: meta.mountpoint },
          'mount still busy after retries; lazy unmount',
        );
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    if (meta.mountpoint !== dirDiskDataDir(g.device)) {
      const st = await lstat(meta.mountpoint).catch(() => undefined);
      if (st?.isSymbolicLink()) await unlink(meta.mountpoint);
    }
    await writeDirDiskMeta(g.device, { ...meta, mountpoint: null });
  }

  async setReadOnly(device: string, readOnly: boolean): Promise<void> {
    const { g, meta } = await this.#op(device, 'set the read-only flag of');
    await writeDirDiskMeta(g.device, { ...meta, readOnly });
  }

  async isReadOnly(device: string): Promise<boolean> {
    return (await this.#op(device, 'read the flag of')).meta.readOnly;
  }

  async quickWipe(device: string): Promise<void> {
    const { g, meta } = await this.#writable(device, 'wipe');
    await this.#emptyData(g.device);
    await writeDirDiskMeta(g.device, { ...meta, fsType: null, label: null });
  }

  async fullWipe(device: string, opts: FullWipeOptions = {}): Promise<void> {
    const { g, meta } = await this.#writable(device, 'wipe');
    const total = meta.sizeBytes;
    for (let done = 0; done < total; ) {
      if (opts.signal?.aborted) {
        throw new StorageError(
          'EABORTED',
          `Wipe cancelled after ${done} of ${total} bytes; wipe again`,
        );
      }
      await new Promise((r) => setImmediate(r));
      if (!(await this.opts.resolveSlotDisk(g.device))) {
        throw new StorageError(
          'EDISCONNECTED',
          `${device} went away while being written: the wipe is incomplete`,
        );
      }
      done = Math.min(total, done + CHUNK);
      opts.onProgress?.({ bytesWritten: done, totalBytes: total });
    }
    await this.#emptyData(g.device);
    await writeDirDiskMeta(g.device, { ...meta, fsType: null, label: null });
  }

  async check(device: string): Promise<CheckResult> {
    const { meta } = await this.#op(device, 'check');
    return meta.fsType === 'exfat'
      ? { clean: true, exitCode: 0, output: `${device}: clean (simulated)` }
      : { clean: false, exitCode: 8, output: 'Bad fs_name in boot sector (simulated)' };
  }

  async probe(device: string): Promise<ProbeResult> {
    const { meta } = await this.#op(device, 'probe');
    const out: ProbeResult = {};
    if (meta.fsType) out.fsType = meta.fsType;
    if (meta.label) out.label = meta.label;
    return out;
  }

  async flush(device: string): Promise<void> {
    await this.#op(device, 'flush');
  }

  async dropCaches(device: string): Promise<DropCachesResult> {
    await this.#op(device, 'drop the caches of');
    return { applied: [] };
  }

  /** Directory disks have no blocks: rejects ENOTSUPPORTED (the pipeline uses file mode). */
  async writeImage(device: string): Promise<{ bytesWritten: number }> {
    await this.#op(device, 'write an image to');
    throw new StorageError(
      'ENOTSUPPORTED',
      `${device} is a directory disk: block images need a block device`,
    );
  }

  async verifyImage(device: string): Promise<ImageVerifyResult> {
    await this.#op(device, 'verify');
    throw new StorageError(
      'ENOTSUPPORTED',
      `${device} is a directory disk: block images need a block device`,
    );
  }

  async mountImage(file: string): Promise<MountInfo> {
    throw new StorageError(
      'ENOTSUPPORTED',
      `cannot mount the image ${file}: the storage simulator has no block images`,
    );
  }

  async unmountImage(): Promise<void> {}

  async releaseImageMounts(): Promise<string[]> {
    return [];
  }

  async #op(device: string, operation: string): Promise<{ g: Guarded; meta: DirDiskMeta }> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, operation);
    if (g.disk.kind !== 'directory') {
      throw new StorageError(
        'EINVAL',
        `The storage simulator only handles directory disks; ${device} is a block device (use the real storage driver)`,
      );
    }
    this.#ops += 1;
    if (this.faults.ioErrorOnOp !== undefined) {
      this.faults.ioErrorOnOp -= 1;
      if (this.faults.ioErrorOnOp <= 0) {
        delete this.faults.ioErrorOnOp;
        throw new StorageError(
          'EIO',
          `Simulated I/O error on operation ${this.#ops} (${operation} ${device})`,
        );
      }
    }
    const meta = await readDirDiskMeta(g.device);
    if (!meta)
      throw new StorageError(
        'EDISCONNECTED',
        `${device} has no disk.json: the directory disk is gone`,
      );
    return { g, meta };
  }

  async #writable(device: string, operation: string) {
    const r = await this.#op(device, operation);
    if (r.meta.mountpoint) {
      throw new StorageError(
        'EBUSY',
        `Cannot ${operation} ${device}: mounted at ${r.meta.mountpoint}; unmount it first`,
      );
    }
    if (r.meta.readOnly) {
      throw new StorageError(
        'EREADONLY',
        `Cannot ${operation} ${device}: its read-only flag is set; clear it first`,
      );
    }
    return r;
  }

  async #emptyData(dir: string): Promise<void> {
    const data = dirDiskDataDir(dir);
    await rm(data, { recursive: true, force: true });
    await mkdir(data, { recursive: true });
  }
}
