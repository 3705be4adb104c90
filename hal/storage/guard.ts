/**
 * The check in front of every storage operation: the device must be a slot disk (same
 * real path as a disk the resolver knows), must not hold a system mount, and must not
 * report an I/O error.
 */
import { devicePath, isSystemMountpoint, type SlotDisk } from '../drives/index.js';
import { mountsOfDisk } from './mounts.js';
import { type SlotDiskResolver, StorageError } from './types.js';

export interface Guarded {
  disk: SlotDisk;
  /** The real path of the device. */
  device: string;
}

export async function requireSlotDisk(
  resolve: SlotDiskResolver,
  device: string,
  operation: string,
  opts: { fresh?: boolean } = {},
): Promise<Guarded> {
  const real = await devicePath(device);
  const disk = await resolve(real, opts);
  if (!disk || (await devicePath(disk.device)) !== real) {
    throw new StorageError(
      'ENOTSLOTDISK',
      `Refusing to ${operation} ${device}: it is not a disk in a calibrated slot (check the slot calibration)`,
    );
  }
  if (disk.kind === 'block') {
    const system = (await mountsOfDisk(real)).find((m) => isSystemMountpoint(m.target));
    if (system) {
      throw new StorageError(
        'ENOTSLOTDISK',
        `Refusing to ${operation} ${device}: it holds the system mount ${system.target}`,
      );
    }
  }
  if (disk.error) {
    throw new StorageError(
      'EIO',
      `Disk in slot ${disk.slot} (${device}) reports an error (${disk.error}); take it out of service`,
    );
  }
  return { disk, device: real };
}
