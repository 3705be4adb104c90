/**
 * The storage steps that need root (CAP_SYS_ADMIN): signature wipe, mkfs, mount, umount,
 * the block-device read-only flag and buffer flush. `DirectOps` runs the tools itself
 * (kioskd as root, development, tests); `HelperOps` (helper-client.ts) asks the SD
 * image's storage helper, so that kioskd can run unprivileged. Reads (blkid, fsck,
 * `blockdev --getro`) and data writes (zero fill) never need root: the slot disks'
 * device nodes belong to kioskd's group.
 */
import { mkdir } from 'node:fs/promises';
import { runTool } from './run-tool.js';

export interface PrivilegedMount {
  readOnly: boolean;
  uid: number;
  gid: number;
  /** `kernel`: `mount -t exfat`; `fuse`: mount.exfat-fuse. */
  driver: 'kernel' | 'fuse';
}

export interface PrivilegedOps {
  /** `direct` (tools run in this process's privileges) or `helper` (the root helper socket). */
  readonly via: 'direct' | 'helper';
  /** `wipefs -a`: erases file-system and partition-table signatures. Timeout 60 s. */
  wipeSignatures(device: string, doing: string): Promise<void>;
  /** `mkfs.exfat -L label` (label already validated). Timeout 5 min. */
  mkfsExfat(device: string, label: string, doing: string): Promise<void>;
  /** Mounts the exFAT file system at `mountpoint` (created if missing). Timeout 60 s. */
  mount(device: string, mountpoint: string, opts: PrivilegedMount, doing: string): Promise<void>;
  /** Unmounts `mountpoint`; `lazy` detaches it even while busy. Timeout 60 s. */
  umount(mountpoint: string, lazy: boolean, doing: string): Promise<void>;
  /** `blockdev --setro` / `--setrw`. Timeout 60 s. */
  setReadOnlyFlag(device: string, readOnly: boolean): Promise<void>;
  /** `blockdev --flushbufs`: writes back and drops the device's buffer cache. Timeout 60 s. */
  flushBuffers(device: string): Promise<void>;
}

/** Runs the tools directly: needs root (or the capabilities) in this process. */
export class DirectOps implements PrivilegedOps {
  readonly via = 'direct';

  async wipeSignatures(device: string, doing: string): Promise<void> {
    await runTool('wipefs', ['-a', device], { doing });
  }

  async mkfsExfat(device: string, label: string, doing: string): Promise<void> {
    await runTool('mkfs.exfat', ['-L', label, device], { doing, timeoutMs: 5 * 60_000 });
  }

  async mount(
    device: string,
    mountpoint: string,
    opts: PrivilegedMount,
    doing: string,
  ): Promise<void> {
    await mkdir(mountpoint, { recursive: true });
    const options = [
      'noatime',
      `uid=${opts.uid}`,
      `gid=${opts.gid}`,
      opts.readOnly ? 'ro' : 'rw',
    ].join(',');
    if (opts.driver === 'kernel') {
      await runTool('mount', ['-t', 'exfat', '-o', options, device, mountpoint], { doing });
    } else {
      await runTool('mount.exfat-fuse', ['-o', options, device, mountpoint], { doing });
    }
  }

  async umount(mountpoint: string, lazy: boolean, doing: string): Promise<void> {
    await runTool('umount', lazy ? ['-l', mountpoint] : [mountpoint], { doing });
  }

  async setReadOnlyFlag(device: string, readOnly: boolean): Promise<void> {
    await runTool('blockdev', [readOnly ? '--setro' : '--setrw', device]);
  }

  async flushBuffers(device: string): Promise<void> {
    await runTool('blockdev', ['--flushbufs', device]);
  }
}
