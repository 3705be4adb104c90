/**
 * Directory-backed fake disks, for machines without loop devices (laptops, the demo as
 * non-root). Shared by the drives and storage simulators. Layout of a disk directory:
 *   <dir>/disk.json   { label, fsType, readOnly, mountpoint, sizeBytes }
 *   <dir>/data/       the "filesystem" contents
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface DirDiskMeta {
  label: string | null;
  /** 'exfat' after a format, null when blank or wiped. */
  fsType: 'exfat' | null;
  readOnly: boolean;
  /** Where the disk is "mounted" (its data directory or a symlink to it), or null. */
  mountpoint: string | null;
  sizeBytes: number;
}

export const dirDiskDataDir = (dir: string) => path.join(dir, 'data');
const metaFile = (dir: string) => path.join(dir, 'disk.json');

export async function readDirDiskMeta(dir: string): Promise<DirDiskMeta | undefined> {
  try {
    return JSON.parse(await readFile(metaFile(dir), 'utf8')) as DirDiskMeta;
  } catch {
    return undefined;
  }
}

/**
 * Atomic replace through a temp file of its own: two processes (two kiosks' simulators
 * sharing a disk, as the demo's return bays do) may write at the same moment.
 */
export async function writeDirDiskMeta(dir: string, meta: DirDiskMeta): Promise<void> {
  const tmp = `${metaFile(dir)}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, JSON.stringify(meta), 'utf8');
  await rename(tmp, metaFile(dir));
}

/** Creates the layout if missing (a blank disk of `sizeBytes`); returns the meta. */
export async function ensureDirDisk(dir: string, sizeBytes: number): Promise<DirDiskMeta> {
  const existing = await readDirDiskMeta(dir);
  if (existing) return existing;
  await mkdir(dirDiskDataDir(dir), { recursive: true });
  const meta: DirDiskMeta = {
    label: null,
    fsType: null,
    readOnly: false,
    mountpoint: null,
    sizeBytes,
  };
  await writeDirDiskMeta(dir, meta);
  return meta;
}
