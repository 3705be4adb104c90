/**
 * `createDrives(config)`: the real driver (drivelist, lsblk, /dev/disk/by-path) or the
 * simulator. The real driver is loaded lazily, so the simulator runs where drivelist's
 * native module is missing.
 */
import type { RealDrivesConfig } from './real.js';
import type { SimDrives, SimDrivesConfig } from './sim.js';
import type { Drives } from './types.js';

export type DrivesConfig =
  | ({ driver: 'real' } & RealDrivesConfig)
  | ({ driver: 'sim' } & SimDrivesConfig);

export async function createDrives(config: { driver: 'sim' } & SimDrivesConfig): Promise<SimDrives>;
export async function createDrives(config: DrivesConfig): Promise<Drives>;
export async function createDrives(config: DrivesConfig): Promise<Drives> {
  if (config.driver === 'sim') {
    const { driver: _d, ...rest } = config;
    const { SimDrives } = await import('./sim.js');
    return new SimDrives(rest);
  }
  const { driver: _d, ...rest } = config;
  const { createRealDrives } = await import('./real.js');
  return createRealDrives(rest);
}

export { parseByPathName, portKeysOf } from './by-path.js';
// What hal/storage uses of the drives (a device reaches another only through its index.ts).
export {
  type DirDiskMeta,
  dirDiskDataDir,
  readDirDiskMeta,
  writeDirDiskMeta,
} from './dir-disk.js';
export { devicePath } from './drive-watcher.js';
export { isSystemMountpoint, SYSTEM_MOUNTPOINTS, selectDisks } from './selection.js';
export type { SimDiskSpec, SimDrives, SimDrivesConfig } from './sim.js';
export { wholeDiskOf } from './system-disks.js';
export * from './types.js';
