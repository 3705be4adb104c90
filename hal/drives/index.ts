/**
 * `createDrives(config)`: the real driver (drivelist, lsblk, /dev/disk/by-path) or the
 * simulator. The real driver is loaded lazily, so the simulator runs where drivelist's
 * native module is missing.
 */
import type { RealDrivesConfig } from './real.js';
import type { SimDrives, SimDrivesConfig } from './sim.js';
import type { Drives } from './types.js';

export type DrivesConfig =
  | ({ kind: 'real' } & RealDrivesConfig)
  | ({ kind: 'sim' } & SimDrivesConfig);

export async function createDrives(config: { kind: 'sim' } & SimDrivesConfig): Promise<SimDrives>;
export async function createDrives(config: DrivesConfig): Promise<Drives>;
export async function createDrives(config: DrivesConfig): Promise<Drives> {
  if (config.kind === 'sim') {
    const { kind: _k, ...rest } = config;
    const { SimDrives } = await import('./sim.js');
    return new SimDrives(rest);
  }
  const { kind: _k, ...rest } = config;
  const { createRealDrives } = await import('./real.js');
  return createRealDrives(rest);
}

export { parseByPathName, portKeysOf } from './by-path.js';
export { SYSTEM_MOUNTPOINTS, selectDisks } from './selection.js';
export type { SimDiskSpec, SimDrives, SimDrivesConfig } from './sim.js';
export * from './types.js';
