/** What is mounted from a disk (the device or any of its partitions), from /proc/self/mounts. */
import { readFile } from 'node:fs/promises';
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
