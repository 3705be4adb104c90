/**
 * The real storage driver: exfatprogs, exfat-fuse / the kernel exfat driver, util-linux
 * (mount, umount, blockdev, wipefs, blkid) through execa, and direct writes for wiping.
 * The steps that need root go through `PrivilegedOps`: run here (`DirectOps`) or, with
 * `helperSocket`, by the SD image's root storage helper (`HelperOps`), kioskd unprivileged.
 */
import { access, open, readFile, realpath, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BlockWorkers, coalesce, DEFAULT_CHUNK_BYTES, type FileHash } from './block-io.js';
import { requireSlotDisk } from './guard.js';
import { HelperOps, StorageHelperClient } from './helper-client.js';
import { exfatDriver } from './image-file.js';
import { validateExfatLabel } from './label.js';
import { mountsOfDisk, readMounts, waitReleased } from './mounts.js';
import { DirectOps, type PrivilegedOps } from './privileged.js';
import { runTool } from './run-tool.js';
import {
  type CheckResult,
  DEFAULT_MOUNT_ROOT,
  type DropCachesResult,
  type FormatOptions,
  type FullWipeOptions,
  type HashFilesOptions,
  type ImageVerifyResult,
  type ImageWriteOptions,
  type MountInfo,
  type MountOptions,
  type ProbeResult,
  type Storage,
  StorageError,
  type StorageOptions,
  type UnmountOptions,
} from './types.js';
import { zeroFill } from './zero-fill.js';

const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RealStorageOptions extends StorageOptions {
  /** Force a mount driver; default `auto` (kernel if /proc/filesystems lists exfat). */
  mountDriver?: 'auto' | 'kernel' | 'fuse';
  /**
   * The root storage helper's socket (the SD image: `/run/disk-kiosk-storage.sock`):
   * wipefs, mkfs, mount, umount, read-only flag and buffer flush go through it, so
   * kioskd needs no root. Mount points must then be directly below `mountRoot`, which
   * must be the helper's (`/run/disk-kiosk-mnt`). Unset: the tools run in this process.
   */
  helperSocket?: string;
  /** Injected privileged steps (tests); overrides `helperSocket`. */
  privileged?: PrivilegedOps;
}

export class RealStorage implements Storage {
  #privileged: PrivilegedOps | undefined;
  /** Worker threads for bulk reads, writes and hashing (started on demand). */
  readonly #workers = new BlockWorkers();

  constructor(private readonly opts: RealStorageOptions) {}

  /** The privileged steps: injected, through the helper, or direct. */
  get privileged(): PrivilegedOps {
    this.#privileged ??=
      this.opts.privileged ??
      (this.opts.helperSocket
        ? new HelperOps({
            client: new StorageHelperClient({ socketPath: this.opts.helperSocket }),
            mountRoot: this.opts.mountRoot ?? DEFAULT_MOUNT_ROOT,
          })
        : new DirectOps());
    return this.#privileged;
  }

  async start(): Promise<void> {
    for (const tool of [
      'mkfs.exfat',
      'fsck.exfat',
      'blockdev',
      'wipefs',
      'blkid',
      'mount',
      'umount',
    ]) {
      await runTool('which', [tool]).catch(() => {
        throw new StorageError('ETOOL', `${tool} is not installed: run scripts/setup-system.sh`, {
          tool,
          exitCode: 127,
          stderr: '',
        });
      });
    }
    if (this.privileged.via === 'helper') {
      if (!(await exists(this.opts.helperSocket ?? ''))) {
        throw new StorageError(
          'ETOOL',
          `the storage helper socket ${this.opts.helperSocket} does not exist: systemctl start disk-kiosk-storage.socket (or unset hardware.storage.helperSocket when kioskd runs as root)`,
          { tool: 'storage-helper', exitCode: -1, stderr: '' },
        );
      }
      return; // the helper mounts with the kernel exFAT driver
    }
    if ((await this.#driver()) === 'fuse') await runTool('which', ['mount.exfat-fuse']);
  }

  async stop(): Promise<void> {
    await this.#workers.close();
  }

  async format(device: string, opts: FormatOptions): Promise<void> {
    validateExfatLabel(opts.label);
    const g = await this.#writable(device, 'format');
    await this.privileged.wipeSignatures(g.device, `formatting ${device}`);
    await this.privileged.mkfsExfat(g.device, opts.label, `formatting ${device}`);
  }

  async mount(device: string, opts: MountOptions = {}): Promise<MountInfo> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, 'mount');
    const existing = await mountsOfDisk(g.device);
    if (existing.length > 0) {
      throw new StorageError(
        'EBUSY',
        `${device} is already mounted at ${existing[0]!.target}: unmount it first`,
      );
    }
    const readOnly = opts.readOnly ?? false;
    if (!readOnly && (await this.isReadOnlyUnchecked(g.device))) {
      throw new StorageError(
        'EREADONLY',
        `${device} has its read-only flag set: mount it with readOnly, or clear the flag first`,
      );
    }
    const mountpoint =
      opts.mountpoint ??
      path.join(this.opts.mountRoot ?? DEFAULT_MOUNT_ROOT, `slot-${g.disk.slot}`);
    const uid = opts.uid ?? this.opts.uid ?? 0;
    const gid = opts.gid ?? this.opts.gid ?? 0;
    const driver = this.privileged.via === 'helper' ? 'kernel' : await this.#driver();
    await this.privileged.mount(
      g.device,
      mountpoint,
      { readOnly, uid, gid, driver },
      `mounting ${device} on ${mountpoint}`,
    );
    const now = (await mountsOfDisk(g.device)).find((m) => m.target === path.resolve(mountpoint));
    if (!now)
      throw new StorageError('EVERIFY', `${device} does not show as mounted on ${mountpoint}`);
    return {
      device: g.device,
      mountpoint: now.target,
      driver,
      readOnly: now.options.includes('ro'),
    };
  }

  async unmount(device: string, opts: UnmountOptions = {}): Promise<void> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, 'unmount');
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    const mounts = await mountsOfDisk(g.device);
    let lazy = false;
    for (const m of mounts) {
      for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
        try {
          await this.privileged.umount(m.target, false, `unmounting ${device}`);
          break;
        } catch (err) {
          const busy = err instanceof StorageError && /busy/i.test(err.stderr ?? '');
          if (!busy) throw err;
          if (Date.now() + delay > deadline) {
            if (opts.noLazy) {
              throw new StorageError(
                'EBUSY',
                `${m.target} stays busy: close the files open on it`,
                {
                  cause: err,
                  tool: 'umount',
                  exitCode: err.exitCode ?? -1,
                  stderr: err.stderr ?? '',
                },
              );
            }
            this.opts.log?.warn(
              { device, mountpoint: m.target },
              'mount still busy after retries; lazy unmount (the disk is detached from the tree but may still be written)',
            );
            await this.privileged.umount(m.target, true, `lazy-unmounting ${device}`);
            lazy = true;
            break;
          }
          await sleep(delay);
        }
      }
    }
    // An exfat-fuse daemon may still hold the device after umount returned; what follows
    // (a mount, mkfs, the identity's read-back, the renter pulling the disk) waits for it.
    if (mounts.length === 0 || lazy) return;
    if (await waitReleased(g.device, Math.max(1000, deadline - Date.now()))) return;
    if (opts.noLazy)
      throw new StorageError(
        'EBUSY',
        `${device} is still held after its unmount (the file system's daemon did not finish)`,
      );
    this.opts.log?.warn({ device }, 'the disk is still held after its unmount');
  }

  async setReadOnly(device: string, readOnly: boolean): Promise<void> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, 'set the read-only flag of');
    await this.privileged.setReadOnlyFlag(g.device, readOnly);
    if ((await this.isReadOnlyUnchecked(g.device)) !== readOnly) {
      throw new StorageError(
        'EVERIFY',
        `The read-only flag of ${device} did not read back as ${readOnly}`,
      );
    }
  }

  async isReadOnly(device: string): Promise<boolean> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, 'read the flag of');
    return this.isReadOnlyUnchecked(g.device);
  }

  private async isReadOnlyUnchecked(device: string): Promise<boolean> {
    const ro = await sysBlock(device, 'ro');
    if (ro !== undefined) return ro === '1';
    return (await runTool('blockdev', ['--getro', device])).stdout.trim() === '1';
  }

  async quickWipe(device: string): Promise<void> {
    const g = await this.#writable(device, 'wipe');
    await this.privileged.wipeSignatures(g.device, `wiping ${device}`);
    const size = await this.#size(g.device);
    await this.#withDevice(g.device, device, async (fh) => {
      await zeroFill(fh, 0, Math.min(MiB, size));
      if (size > MiB) await zeroFill(fh, Math.max(MiB, size - MiB), Math.min(MiB, size - MiB));
    });
    await this.privileged.flushBuffers(g.device);
  }

  async fullWipe(device: string, opts: FullWipeOptions = {}): Promise<void> {
    const g = await this.#writable(device, 'wipe');
    const size = await this.#size(g.device);
    await this.#withDevice(g.device, device, (fh) => zeroFill(fh, 0, size, opts));
    await this.privileged.flushBuffers(g.device);
  }

  async check(device: string): Promise<CheckResult> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, 'check');
    const res = await runTool('fsck.exfat', ['-n', g.device], {
      okExitCodes: [1, 2, 4, 8, 16, 32, 128],
      timeoutMs: 10 * 60_000,
    });
    return {
      clean: res.exitCode === 0,
      exitCode: res.exitCode,
      output: `${res.stdout}${res.stderr}`,
    };
  }

  async probe(device: string): Promise<ProbeResult> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, 'probe');
    const res = await runTool('blkid', ['-p', '-o', 'export', g.device], { okExitCodes: [2] });
    const kv = Object.fromEntries(
      res.stdout
        .split('\n')
        .map((l) => l.split('='))
        .filter((p) => p.length >= 2)
        .map(([k, ...v]) => [k, v.join('=')]),
    );
    const out: ProbeResult = {};
    if (kv.TYPE) out.fsType = kv.TYPE;
    if (kv.LABEL) out.label = kv.LABEL;
    if (kv.UUID) out.uuid = kv.UUID;
    return out;
  }

  async flush(device: string): Promise<void> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, 'flush');
    for (const m of await mountsOfDisk(g.device)) {
      await runTool('sync', ['-f', m.target], { doing: `flushing ${device}` });
    }
    const fh = await open(g.device, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.privileged.flushBuffers(g.device);
  }

  async dropCaches(device: string): Promise<DropCachesResult> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, 'drop the caches of');
    await this.privileged.flushBuffers(g.device);
    const applied: DropCachesResult['applied'] = ['flushbufs'];
    if (process.getuid?.() === 0) {
      try {
        await writeFile('/proc/sys/vm/drop_caches', '1');
        applied.push('drop_caches');
      } catch (err) {
        this.opts.log?.warn({ device, err }, 'could not write /proc/sys/vm/drop_caches');
      }
    }
    return { applied };
  }

  async writeImage(device: string, o: ImageWriteOptions): Promise<{ bytesWritten: number }> {
    const g = await this.#writable(device, 'write an image to');
    const size = await this.#size(g.device);
    if (size < o.imageBytes) {
      throw new StorageError(
        'EINVAL',
        `${device} holds ${size} bytes, less than the ${o.imageBytes}-byte image: use a bigger disk or file mode`,
      );
    }
    return this.#blockJob(g.device, device, () =>
      this.#workers.run(
        {
          op: 'write',
          device: g.device,
          image: o.image,
          extents: coalesce(o.ranges, o.gapBytes ?? 2 ** 20),
          patches: [...(o.patches ?? [])],
          chunkBytes: o.chunkBytes ?? DEFAULT_CHUNK_BYTES,
        },
        o,
      ),
    );
  }

  async verifyImage(
    device: string,
    o: Omit<ImageWriteOptions, 'imageBytes'>,
  ): Promise<ImageVerifyResult> {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, 'verify');
    return this.#blockJob(g.device, device, () =>
      this.#workers.run(
        {
          op: 'verify',
          device: g.device,
          image: o.image,
          ranges: [...o.ranges],
          patches: [...(o.patches ?? [])],
          gapBytes: o.gapBytes ?? 2 ** 20,
          chunkBytes: Math.max(o.chunkBytes ?? DEFAULT_CHUNK_BYTES, 16 * 2 ** 20),
        },
        o,
      ),
    );
  }

  async mountImage(
    file: string,
    name: string,
    opts: { readOnly?: boolean } = {},
  ): Promise<MountInfo> {
    if (!/^image-[A-Za-z0-9_-]{1,58}$/.test(name))
      throw new StorageError(
        'EINVAL',
        `image mount name ${JSON.stringify(name)} refused: image-[A-Za-z0-9_-]`,
      );
    const mountpoint = path.join(this.opts.mountRoot ?? DEFAULT_MOUNT_ROOT, name);
    const readOnly = opts.readOnly ?? false;
    const driver = this.privileged.via === 'helper' ? 'kernel' : await this.#driver();
    await this.privileged.mountImage(
      file,
      mountpoint,
      { readOnly, uid: this.opts.uid ?? 0, gid: this.opts.gid ?? 0, driver },
      `mounting the image ${file}`,
    );
    return { device: file, mountpoint, driver, readOnly };
  }

  async unmountImage(mountpoint: string): Promise<void> {
    await this.privileged.umount(mountpoint, false, `unmounting the image at ${mountpoint}`);
    await rmdir(mountpoint).catch(() => undefined); // the helper removes its own
  }

  async releaseImageMounts(): Promise<string[]> {
    const root = path.resolve(this.opts.mountRoot ?? DEFAULT_MOUNT_ROOT);
    const out: string[] = [];
    for (const m of await readMounts().catch(() => [])) {
      if (path.dirname(m.target) !== root || !path.basename(m.target).startsWith('image-'))
        continue;
      await this.privileged
        .umount(m.target, true, 'releasing an image mount left by a crash')
        .then(() => out.push(m.target))
        .catch((err: Error) =>
          this.opts.log?.warn(
            { mountpoint: m.target, err: err.message },
            'cannot release an image mount',
          ),
        );
    }
    return out;
  }

  hashFiles(files: readonly string[], opts: HashFilesOptions = {}): Promise<FileHash[]> {
    return this.#workers.hashFiles(files, opts);
  }

  /** A block job on a slot disk: an I/O error on a disk that has gone is EDISCONNECTED. */
  async #blockJob<R>(real: string, device: string, fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof StorageError) || err.code !== 'EIO') throw err;
      const gone = (await this.opts.resolveSlotDisk(real)) === undefined || !(await exists(real));
      if (!gone) throw err;
      throw new StorageError(
        'EDISCONNECTED',
        `${device} went away during the transfer: prepare it again`,
        {
          cause: err,
        },
      );
    }
  }

  /** Slot disk (by a fresh scan: it is about to be written), not mounted, read-only flag clear. */
  async #writable(device: string, operation: string) {
    const g = await requireSlotDisk(this.opts.resolveSlotDisk, device, operation, { fresh: true });
    const mounted = await mountsOfDisk(g.device);
    if (mounted.length > 0) {
      throw new StorageError(
        'EBUSY',
        `Cannot ${operation} ${device}: mounted at ${mounted[0]!.target}; unmount it first`,
      );
    }
    if (await this.isReadOnlyUnchecked(g.device)) {
      throw new StorageError(
        'EREADONLY',
        `Cannot ${operation} ${device}: its read-only flag is set; clear it first`,
      );
    }
    return g;
  }

  async #size(device: string): Promise<number> {
    const sectors = await sysBlock(device, 'size'); // always in 512-byte units
    if (sectors !== undefined) return Number(sectors) * 512;
    return Number((await runTool('blockdev', ['--getsize64', device])).stdout.trim());
  }

  /** Opens the device for writing, maps write errors, fsyncs and closes. */
  async #withDevice(
    real: string,
    device: string,
    fn: (fh: import('node:fs/promises').FileHandle) => Promise<void>,
  ): Promise<void> {
    const fh = await open(real, 'r+');
    try {
      await fn(fh);
      await fh.sync();
    } catch (err) {
      if (err instanceof StorageError) throw err;
      const gone = (await this.opts.resolveSlotDisk(real)) === undefined || !(await exists(real));
      throw new StorageError(
        gone ? 'EDISCONNECTED' : 'EIO',
        gone
          ? `${device} went away while being written: the wipe is incomplete`
          : `Writing ${device} failed (${(err as Error).message}); take the disk out of service`,
        { cause: err },
      );
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  #driver(): Promise<'kernel' | 'fuse'> {
    return exfatDriver(this.opts.mountDriver);
  }
}

/** `/sys/class/block/<name>/<attr>` of a device (no process spawned), or undefined. */
async function sysBlock(device: string, attr: 'ro' | 'size'): Promise<string | undefined> {
  try {
    const name = path.basename(await realpath(device));
    return (await readFile(`/sys/class/block/${name}/${attr}`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
