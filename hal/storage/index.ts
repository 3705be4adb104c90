/**
 * `createStorage(config)`: the real driver (system tools through execa) or the simulator
 * (directory disks). Both take the slot-disk resolver that guards every operation; pass
 * `drives.resolveSlotDisk.bind(drives)` or `resolverFromDrives(drives)`.
 */
import type { Drives } from '../drives/types.js';
import type { RealStorageOptions } from './real.js';
import type { SimStorage, SimStorageFaults } from './sim.js';
import type { SlotDiskResolver, Storage, StorageOptions } from './types.js';

export type StorageConfig =
  | ({ driver: 'real' } & RealStorageOptions)
  | ({ driver: 'sim'; faults?: SimStorageFaults } & StorageOptions);

export async function createStorage(
  config: { driver: 'sim' } & StorageOptions & { faults?: SimStorageFaults },
): Promise<SimStorage>;
export async function createStorage(config: StorageConfig): Promise<Storage>;
export async function createStorage(config: StorageConfig): Promise<Storage> {
  if (config.driver === 'sim') {
    const { driver: _d, ...rest } = config;
    const { SimStorage } = await import('./sim.js');
    return new SimStorage(rest);
  }
  const { driver: _d, ...rest } = config;
  const { RealStorage } = await import('./real.js');
  return new RealStorage(rest);
}

/** The resolver over a Drives instance (each call rescans; compares real paths). */
export function resolverFromDrives(drives: Pick<Drives, 'resolveSlotDisk'>): SlotDiskResolver {
  return (device, opts) => drives.resolveSlotDisk(device, opts);
}

export {
  type BlockPatch,
  type BlockRange,
  BlockWorkers,
  coalesce,
  type FileHash,
  type VerifyMismatch,
} from './block-io.js';
export { type BlockMap, mappedBytes, parseBmap, refineRanges, serializeBmap } from './bmap.js';
export {
  type ExfatGeometry,
  formatSerial,
  parseBootSector,
  patchRegions,
  type ReadAt,
  volumePatches,
} from './exfat-volume.js';
export {
  createBlockMap,
  exfatDriver,
  formatImageFile,
  type ImageFormat,
} from './image-file.js';
export { validateExfatLabel } from './label.js';
export type { SimStorage, SimStorageFaults } from './sim.js';
export * from './types.js';
