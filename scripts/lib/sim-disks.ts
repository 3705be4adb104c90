/**
 * The demo's disks: loop devices on sparse files when running as root (real block
 * devices: the real storage driver formats, mounts and verifies them), else directories
 * (the drives and storage simulators' directory-backed disks). Every disk has a stable
 * USB serial the drives simulator reports.
 */
import { execFile } from 'node:child_process';
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DemoError } from './wait.js';

const run = promisify(execFile);

export type DiskBacking = 'loop' | 'directory';

export interface DemoDisk {
  /** Stable name, also the USB serial the simulator reports (e.g. `K1-S1`). */
  name: string;
  serial: string;
  backing: DiskBacking;
  /** `/dev/loopN` or the directory. */
  device: string;
  sizeBytes: number;
  /** The drives simulator's disk spec for this disk (`hardware.drives.disks[slot]`). */
  spec(): { serial: string; sizeBytes: number; device?: string; dir?: string };
}

/** Loop devices when root and losetup works; directories otherwise. */
export function defaultBacking(): DiskBacking {
  return process.getuid?.() === 0 ? 'loop' : 'directory';
}

async function mountpointsOf(device: string): Promise<string[]> {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  return mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([src]) => src === device)
    .map(([, target]) => (target ?? '').replace(/\\040/g, ' '));
}

/** Unmounts everything mounted from `device` (lazily when busy). Never rejects. */
export async function unmountAll(device: string): Promise<void> {
  for (const mp of await mountpointsOf(device)) {
    await run('umount', [mp]).catch(() => run('umount', ['-l', mp]).catch(() => {}));
  }
}

/** Detaches loop devices still attached to files under `dir` (left by a killed run). */
export async function detachStaleLoops(dir: string): Promise<string[]> {
  if (defaultBacking() !== 'loop') return [];
  const { stdout } = await run('losetup', ['-J', '-l']).catch(() => ({ stdout: '' }));
  if (!stdout.trim()) return [];
  const rows = (
    JSON.parse(stdout) as { loopdevices?: Array<{ name: string; 'back-file'?: string }> }
  ).loopdevices;
  const prefix = path.resolve(dir) + path.sep;
  const detached: string[] = [];
  for (const r of rows ?? []) {
    const file = (r['back-file'] ?? '').replace(/ \(deleted\)$/, '');
    if (!file.startsWith(prefix)) continue;
    await unmountAll(r.name);
    await run('losetup', ['-d', r.name]).catch(() => {});
    detached.push(r.name);
  }
  return detached;
}

/**
 * Creates one disk of `sizeBytes` in `dir`: a loop device (attached here; `release()`
 * unmounts and detaches it) or a directory path (created by the drives simulator on
 * insert). Rejects with DemoError ESTART when losetup fails.
 */
export async function createDemoDisk(opts: {
  dir: string;
  name: string;
  sizeBytes: number;
  backing: DiskBacking;
}): Promise<DemoDisk & { release(): Promise<void> }> {
  const serial = opts.name;
  if (opts.backing === 'directory') {
    const dir = path.join(opts.dir, `${opts.name}.disk`);
    return {
      name: opts.name,
      serial,
      backing: 'directory',
      device: dir,
      sizeBytes: opts.sizeBytes,
      spec: () => ({ serial, sizeBytes: opts.sizeBytes, dir }),
      release: async () => {},
    };
  }
  const file = path.join(opts.dir, `${opts.name}.img`);
  const fh = await open(file, 'w');
  await fh.truncate(opts.sizeBytes);
  await fh.close();
  let device: string;
  try {
    device = (await run('losetup', ['--find', '--show', file])).stdout.trim();
  } catch (err) {
    await rm(file, { force: true });
    throw new DemoError(
      'ESTART',
      `cannot attach a loop device for ${file}: ${(err as Error).message}; run as root with loop support, or as another user for directory-backed disks`,
    );
  }
  let released = false;
  return {
    name: opts.name,
    serial,
    backing: 'loop',
    device,
    sizeBytes: opts.sizeBytes,
    spec: () => ({ serial, sizeBytes: opts.sizeBytes, device }),
    release: async () => {
      if (released) return;
      released = true;
      await unmountAll(device);
      await run('losetup', ['-d', device]).catch(() => {});
      await rm(file, { force: true });
    },
  };
}
