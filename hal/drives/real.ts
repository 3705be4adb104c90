/**
 * The real driver: drivelist for enumeration, `lsblk` for serial numbers, the read-only
 * flag and the transport, `/dev/disk/by-path` for port paths, and `findSystemDisks()`
 * for the independent system-disk check. Each source is injectable for tests.
 */
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { DriveWatcher } from './drive-watcher.js';
import { findSystemDisks } from './system-disks.js';
import type { DiskScanner, DrivesOptions, ScannedDisk, ScanResult } from './types.js';

/** The subset of drivelist's `Drive` this driver reads. */
export interface DrivelistDrive {
  device: string;
  size: number | null;
  isUSB: boolean | null;
  isRemovable: boolean;
  isVirtual: boolean | null;
  isSystem: boolean;
  isReadOnly: boolean;
  error: unknown;
  mountpoints: Array<{ path: string }>;
}

/** One row of `lsblk -J -b -d -o PATH,SERIAL,RO,TRAN`. */
export interface LsblkRow {
  path: string;
  serial: string | null;
  ro: boolean | string | null;
  tran: string | null;
}

export interface RealScannerSources {
  listDrives(): Promise<DrivelistDrive[]>;
  lsblk(): Promise<LsblkRow[]>;
  /** by-path name -> device it links to (real path). */
  byPath(): Promise<Array<{ name: string; device: string }>>;
  systemDisks(): Promise<string[]>;
}

async function defaultListDrives(): Promise<DrivelistDrive[]> {
  const drivelist = await import('drivelist');
  return drivelist.list();
}

async function defaultLsblk(): Promise<LsblkRow[]> {
  const { execa } = await import('execa');
  const { stdout } = await execa('lsblk', ['-J', '-b', '-d', '-o', 'PATH,SERIAL,RO,TRAN'], {
    timeout: 10_000,
  });
  const parsed = JSON.parse(stdout) as { blockdevices?: LsblkRow[] };
  return parsed.blockdevices ?? [];
}

export async function readByPathDir(
  dir = '/dev/disk/by-path',
): Promise<Array<{ name: string; device: string }>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return []; // no by-path directory (no udev, or no disks with a path)
  }
  const out: Array<{ name: string; device: string }> = [];
  for (const name of names) {
    try {
      out.push({ name, device: path.resolve(dir, await readlink(path.join(dir, name))) });
    } catch {
      // not a symlink, or vanished meanwhile
    }
  }
  return out;
}

export const defaultSources: RealScannerSources = {
  listDrives: defaultListDrives,
  lsblk: defaultLsblk,
  byPath: () => readByPathDir(),
  systemDisks: findSystemDisks,
};

const truthy = (v: boolean | string | null) => v === true || v === '1' || v === 'true';

export class RealDiskScanner implements DiskScanner {
  constructor(private readonly sources: RealScannerSources = defaultSources) {}

  async scan(): Promise<ScanResult> {
    const [drives, rows, links, systemDisks] = await Promise.all([
      this.sources.listDrives(),
      this.sources.lsblk().catch(() => [] as LsblkRow[]),
      this.sources.byPath(),
      this.sources.systemDisks(),
    ]);
    const byDevice = new Map(rows.map((r) => [r.path, r]));
    const disks: ScannedDisk[] = drives.map((d) => {
      const row = byDevice.get(d.device);
      const byPathNames = links.filter((l) => l.device === d.device).map((l) => l.name);
      const usb =
        d.isUSB === true || row?.tran === 'usb' || byPathNames.some((n) => /-usb(v\d+)?-/.test(n));
      const disk: ScannedDisk = {
        device: d.device,
        kind: 'block',
        serial: row?.serial?.trim() || null,
        sizeBytes: d.size ?? 0,
        usb,
        removable: d.isRemovable,
        virtual: d.isVirtual === true,
        system: d.isSystem,
        readOnly: d.isReadOnly || (row ? truthy(row.ro) : false),
        mountpoints: d.mountpoints.map((m) => m.path),
        byPathNames,
      };
      if (d.error) disk.error = String(d.error);
      return disk;
    });
    return { disks, systemDisks };
  }
}

export interface RealDrivesConfig extends DrivesOptions {
  /** Replace the enumeration sources (tests). */
  sources?: Partial<RealScannerSources>;
}

/** The real driver; it watches udev events unless `watch` says otherwise. */
export function createRealDrives(config: RealDrivesConfig = {}): DriveWatcher {
  const { sources, ...options } = config;
  const scanner = new RealDiskScanner({ ...defaultSources, ...sources });
  return new DriveWatcher({ watch: 'udev', ...options, scanner });
}
