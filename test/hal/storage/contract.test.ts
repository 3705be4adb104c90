import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { SimDrives } from '../../../hal/drives/sim.js';
import { createStorage } from '../../../hal/storage/index.js';
import { createLoopDisk, requireRoot } from '../../helpers/loop-device.js';
import { type StorageFixture, storageContract } from './fixtures/contract.js';

async function tmp(t: Test, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('simulator on directory disks', async (t) => {
  storageContract(t, async (t): Promise<StorageFixture> => {
    const dir = await tmp(t, 'storage-sim-');
    const drives = new SimDrives({ pollIntervalMs: 60_000 });
    t.teardown(() => drives.stop());
    const disk = await drives.insert(1, { dir: path.join(dir, 'disk1'), sizeBytes: 16 * 2 ** 20 });
    const storage = await createStorage({
      driver: 'sim',
      resolveSlotDisk: (d) => drives.resolveSlotDisk(d),
    });
    return {
      storage,
      disk,
      other: path.join(dir, 'not-a-slot'),
      mountpoint: path.join(dir, 'mnt'),
    };
  });
});

t.test('real driver on loop devices', async (t) => {
  if (!requireRoot(t)) return;
  storageContract(t, async (t): Promise<StorageFixture> => {
    const dir = await tmp(t, 'storage-real-');
    // Teardowns run in reverse: the storage mount is undone before the loop device goes.
    const slot = await createLoopDisk({ sizeMiB: 16, t });
    const other = await createLoopDisk({ sizeMiB: 16, t });
    const drives = new SimDrives({ pollIntervalMs: 60_000 });
    t.teardown(() => drives.stop());
    await drives.insert(1, { device: slot.device, serial: 'LOOP' });
    const storage = await createStorage({
      driver: 'real',
      resolveSlotDisk: (d) => drives.resolveSlotDisk(d),
      mountRoot: path.join(dir, 'mnt'),
    });
    return { storage, disk: slot.device, other: other.device, mountpoint: path.join(dir, 'mp') };
  });
});
