/** What is mounted from a disk (the device or any of its partitions), from /proc/self/mounts. */
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { wholeDiskOf } from '../drives/index.js';

export interface MountEntry {
  source: string;
  target: string;
  fsType: string;
  options: string[];
}

const unescapeOctal = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

export async function readMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [source = '', target = '', fsType = '', options = ''] = l.split(' ');
      return {
        source: unescapeOctal(source),
        target: unescapeOctal(target),
        fsType,
        options: options.split(','),
      };
    });
}

/** Mounts whose source is `disk` (a real path, `/dev/sdb`) or one of its partitions. */
export async function mountsOfDisk(disk: string): Promise<MountEntry[]> {
  const out: MountEntry[] = [];
  for (const m of await readMounts()) {
    if (!m.source.startsWith('/dev/')) continue;
    if (m.source === disk || (await wholeDiskOf(m.source)) === disk) out.push(m);
  }
  return out;
}

/**
 * Waits until nothing holds the block device `device` any more: an `O_EXCL` open of a block
 * device fails with EBUSY while it is mounted or claimed by another opener. `umount` of an
 * exfat-fuse mount can return while the FUSE daemon still has the device (it is finishing
 * its unmount: the volume's clean flag not yet written), and a mount or mkfs started then
 * fails with "Device or resource busy". Resolves true once the device is free (or cannot be
 * judged: not a block device, no permission), false when it is still held at `timeoutMs`.
 * Not cancellable.
 */
export async function waitReleased(device: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    try {
      const fh = await open(device, constants.O_RDONLY | constants.O_EXCL);
      await fh.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY') return true;
      if (Date.now() + delay > deadline) return false;
      await sleep(delay);
    }
  }
}
