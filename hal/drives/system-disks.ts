/**
 * Finds the whole disks that hold the system (`/`, `/boot`, ... and swap), independently
 * of drivelist, so that a wrong `isSystem` can never expose the system disk.
 *
 * Two sources, both used: the device number of each system mountpoint (`stat().dev`,
 * which also works for `/dev/root`), and the sources listed in `/proc/self/mounts` and
 * `/proc/swaps`. A partition is mapped to its parent disk through sysfs.
 */
import { access, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isSystemMountpoint, SYSTEM_MOUNTPOINTS } from './selection.js';

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** `/sys/class/block/<name>` of a partition or disk -> `/dev/<whole disk>`. */
async function wholeDiskOfSysDir(sysDir: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(sysDir);
  } catch {
    return undefined;
  }
  const disk = (await exists(path.join(real, 'partition'))) ? path.dirname(real) : real;
  return `/dev/${path.basename(disk)}`;
}

async function diskOfDevNumber(dev: number): Promise<string | undefined> {
  // Linux dev_t encoding (glibc gnu_dev_major/minor).
  const major = ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
  const minor = (dev & 0xff) | ((dev >>> 12) & ~0xff);
  if (major === 0) return undefined; // anonymous device (overlay, tmpfs, btrfs subvolume)
  return wholeDiskOfSysDir(`/sys/dev/block/${major}:${minor}`);
}

/** The whole disk (`/dev/sdb`) of a device or partition (`/dev/sdb1`), or undefined when not a block device. */
export async function wholeDiskOf(source: string): Promise<string | undefined> {
  if (!source.startsWith('/dev/')) return undefined;
  let real: string;
  try {
    real = await realpath(source);
  } catch {
    return undefined;
  }
  return wholeDiskOfSysDir(`/sys/class/block/${path.basename(real)}`);
}

const unescapeMount = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/** Whole-disk devices holding a system mount or an active swap area. Never rejects. */
export async function findSystemDisks(): Promise<string[]> {
  const disks = new Set<string>();
  const add = (d: string | undefined) => {
    if (d) disks.add(d);
  };
  for (const mp of SYSTEM_MOUNTPOINTS) {
    if (!mp.startsWith('/')) continue;
    try {
      add(await diskOfDevNumber((await stat(mp)).dev));
    } catch {
      // mountpoint absent on this system
    }
  }
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  for (const line of mounts.split('\n')) {
    const [source, target] = line.split(' ');
    if (source && target && isSystemMountpoint(unescapeMount(target))) {
      add(await wholeDiskOf(unescapeMount(source)));
    }
  }
  const swaps = await readFile('/proc/swaps', 'utf8').catch(() => '');
  for (const line of swaps.split('\n').slice(1)) {
    const source = line.split(/\s+/)[0];
    if (source) add(await wholeDiskOf(source));
  }
  return [...disks].sort();
}
