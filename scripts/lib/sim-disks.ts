/**
 * The demo's disks: loop devices on sparse files when running as root (real block
 * devices: the real storage driver formats, mounts and verifies them), else directories
 * (the drives and storage simulators' directory-backed disks). Every disk has a stable
 * USB serial the drives simulator reports.
 */
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { attachLoop, detachLoop, loopsUnder } from '../../hal/drives/loop-device.js';
import {
  exfatDiskTools,
  MissingToolError,
  missingTools,
  missingToolsLine,
} from '../../hal/missing-tool.js';
import type { Cleanup } from './cleanup.js';
import { DemoError } from './wait.js';

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

/** Loop devices when root; directories otherwise. */
export function defaultBacking(): DiskBacking {
  return process.getuid?.() === 0 ? 'loop' : 'directory';
}

/**
 * The disks to use: `requested`, or loop devices as root when the exFAT tools are
 * installed, else directories, with a `note` saying why (and how to get loop disks).
 * Asked for loop disks it cannot have, it throws: DemoError EMISSING without root,
 * MissingToolError (one line with the install command) without the tools.
 */
export function chooseBacking(requested?: DiskBacking): { backing: DiskBacking; note?: string } {
  if (requested === 'directory') return { backing: 'directory' };
  if (defaultBacking() !== 'loop') {
    if (requested === 'loop')
      throw new DemoError('EMISSING', '--disks loop needs root (loop devices, mkfs, mount)');
    return { backing: 'directory', note: 'not root: directory-backed disks' };
  }
  const missing = missingTools(exfatDiskTools());
  if (missing.length === 0) return { backing: 'loop' };
  if (requested === 'loop') throw new MissingToolError(missing, 'loop-device disks');
  return {
    backing: 'directory',
    note: `${missingToolsLine(missing, 'loop-device disks')}; using directory-backed disks instead`,
  };
}

/** Detaches loop devices still attached to files under `dir` (left by a killed run). */
export async function detachStaleLoops(dir: string): Promise<string[]> {
  if (defaultBacking() !== 'loop') return [];
  const stale = await loopsUnder(dir);
  for (const d of stale) await detachLoop(d);
  return stale;
}

/**
 * Creates one disk of `sizeBytes` in `dir`: a loop device (attached writable by the shared
 * helper) or a directory path (created by the drives simulator on insert). The disk's
 * release (unmount, detach, remove the file) is registered in `cleanup` BEFORE the attach,
 * so a stop or a crash while losetup runs still detaches it. Rejects with DemoError ESTART
 * when the attach fails.
 */
export async function createDemoDisk(opts: {
  dir: string;
  name: string;
  sizeBytes: number;
  backing: DiskBacking;
  cleanup: Cleanup;
}): Promise<DemoDisk> {
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
    };
  }
  const file = path.join(opts.dir, `${opts.name}.img`);
  const fh = await open(file, 'w');
  await fh.truncate(opts.sizeBytes);
  await fh.close();
  const attaching = attachLoop(file);
  opts.cleanup.add(`disk ${opts.name}`, async () => {
    const device = await attaching.catch(() => undefined);
    if (device) await detachLoop(device);
    await rm(file, { force: true });
  });
  let device: string;
  try {
    device = await attaching;
  } catch (err) {
    throw new DemoError(
      'ESTART',
      `${(err as Error).message}; run as root with loop support, or use --disks directory`,
    );
  }
  return {
    name: opts.name,
    serial,
    backing: 'loop',
    device,
    sizeBytes: opts.sizeBytes,
    spec: () => ({ serial, sizeBytes: opts.sizeBytes, device }),
  };
}
