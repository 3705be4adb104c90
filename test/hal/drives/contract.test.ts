import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createDrives } from '../../../hal/drives/index.js';
import { SIM_SYSTEM_DISK } from '../../../hal/drives/sim.js';
import { createLoopDisk, requireRoot } from '../../helpers/loop-device.js';
import { drivesContract } from './fixtures/contract.js';

t.test('simulator, directory disks', async (t) => {
  drivesContract(t, async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'drives-contract-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const drives = await createDrives({ driver: 'sim', pollIntervalMs: 60_000 });
    await drives.insert(1, { dir: path.join(dir, 'present'), serial: 'PRESENT' });
    return {
      drives,
      forbidden: [SIM_SYSTEM_DISK],
      insert: async () => [3, await drives.insert(3, { dir: path.join(dir, 'd3'), serial: 'S3' })],
      remove: (slot) => drives.remove(slot),
    };
  });
});

t.test('simulator, loop devices', async (t) => {
  if (!requireRoot(t)) return;
  drivesContract(t, async (t) => {
    const present = await createLoopDisk({ sizeMiB: 16, t });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'drives-contract-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const drives = await createDrives({ driver: 'sim', pollIntervalMs: 60_000 });
    await drives.insert(1, { device: present.device, serial: 'LOOP1' });
    t.teardown(() => drives.stop()); // detaches loop devices the sim attached, even on failure
    return {
      drives,
      forbidden: [SIM_SYSTEM_DISK],
      insert: async () => {
        const backingFile = path.join(dir, 'd2.img');
        await writeFile(backingFile, '');
        await truncate(backingFile, 16 * 2 ** 20);
        return [2, await drives.insert(2, { backingFile, serial: 'LOOP2' })];
      },
      remove: (slot) => drives.remove(slot),
    };
  });
});

t.test(
  'real driver',
  { skip: process.env.HAL_DRIVES_REAL === '1' ? false : 'set HAL_DRIVES_REAL=1' },
  async (t) => {
    drivesContract(t, async (t) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'drives-real-'));
      t.teardown(() => rm(dir, { recursive: true, force: true }));
      const drives = await createDrives({
        driver: 'real',
        calibrationFile: process.env.HAL_DRIVES_TABLE ?? path.join(dir, 'slots.json'),
        pollIntervalMs: 60_000,
      });
      return { drives, forbidden: [] };
    });
  },
);
