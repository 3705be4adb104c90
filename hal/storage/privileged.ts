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
  /**
   * Mounts the exFAT block image `file` (a regular file in the content cache) at
   * `mountpoint`: through a loop device set writable first, which detaches itself at the
   * unmount (autoclear). Timeout 60 s.
   */
  mountImage(file: string, mountpoint: string, opts: PrivilegedMount, doing: string): Promise<void>;
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

  /**
   * As root: losetup + blockdev --setrw (a loop device keeps the read-only flag of its last
   * user) + mount, then `losetup -d`, which on a device in use only marks it to detach
   * at the unmount. Not root (a development machine): exfat-fuse straight on the file
   * (FUSE mounts of files need no root; exfat-fuse wants a block device only as root).
   */
  async mountImage(
    file: string,
    mountpoint: string,
    opts: PrivilegedMount,
    doing: string,
  ): Promise<void> {
    if (process.getuid?.() !== 0) {
      await mkdir(mountpoint, { recursive: true });
      const o = ['noatime', opts.readOnly ? 'ro' : 'rw'].join(',');
      await runTool('mount.exfat-fuse', ['-o', o, file, mountpoint], { doing });
      return;
    }
    const device = (await runTool('losetup', ['--find', '--show', file], { doing })).stdout.trim();
    try {
      await runTool('blockdev', ['--setrw', device], { doing });
      await this.mount(device, mountpoint, opts, doing);
    } finally {
      // Mounted: marked to detach at the unmount. Not mounted: detached now.
      await runTool('losetup', ['-d', device]).catch(() => undefined);
    }
  }

  async umount(mountpoint: string, lazy: boolean, doing: string): Promise<void> {
    if (process.getuid?.() !== 0) {
      // A FUSE mount of this user (see mountImage).
      const r = await runTool('umount', lazy ? ['-l', mountpoint] : [mountpoint], { doing }).catch(
        (err: unknown) => err as Error,
      );
      if (!(r instanceof Error)) return;
      await runTool('fusermount3', [lazy ? '-uz' : '-u', mountpoint], { doing }).catch(() => {
        throw r;
      });
      return;
    }
    await runTool('umount', lazy ? ['-l', mountpoint] : [mountpoint], { doing });
  }

  async setReadOnlyFlag(device: string, readOnly: boolean): Promise<void> {
    await runTool('blockdev', [readOnly ? '--setro' : '--setrw', device]);
  }

  async flushBuffers(device: string): Promise<void> {
    await runTool('blockdev', ['--flushbufs', device]);
  }
}
