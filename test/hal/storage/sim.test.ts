import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { SimDrives } from '../../../hal/drives/sim.js';
import { SimStorage } from '../../../hal/storage/sim.js';

async function setup(t: Test) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'storage-sim-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const drives = new SimDrives({ pollIntervalMs: 60_000 });
  t.teardown(() => drives.stop());
  const disk = await drives.insert(1, { dir: path.join(dir, 'd1'), sizeBytes: 64 * 2 ** 20 });
  const warnings: string[] = [];
  const storage = new SimStorage({
    resolveSlotDisk: (d) => drives.resolveSlotDisk(d),
    log: { warn: (_o, msg) => warnings.push(msg) },
  });
  return { dir, drives, disk, storage, warnings };
}

t.test('mkfs failure fault is an ETOOL carrying stderr', async (t) => {
  const { disk, storage } = await setup(t);
  storage.faults.mkfsFails = true;
  await t.rejects(storage.format(disk, { label: 'X' }), {
    code: 'ETOOL',
    tool: 'mkfs.exfat',
    exitCode: 1,
    stderr: /simulated mkfs failure/,
  });
  storage.faults.mkfsFails = false;
  await storage.format(disk, { label: 'X' });
  t.match(await storage.probe(disk), { fsType: 'exfat', label: 'X' });
});

t.test('I/O error on the Nth operation', async (t) => {
  const { disk, storage } = await setup(t);
  storage.faults.ioErrorOnOp = 2;
  await storage.format(disk, { label: 'ONE' });
  await t.rejects(storage.mount(disk), { code: 'EIO', message: /operation 2/ });
  const m = await storage.mount(disk);
  t.ok(m.mountpoint, 'the fault fires once');
});

t.test('busy unmount: retried, then EBUSY (noLazy) or lazy with a warning', async (t) => {
  const { disk, storage, warnings } = await setup(t);
  await storage.format(disk, { label: 'B' });
  await storage.mount(disk);
  storage.faults.busyUnmounts = 2;
  await storage.unmount(disk, { timeoutMs: 5000 });
  t.same(warnings, [], 'two busy answers are outlasted by retrying');
  await storage.mount(disk);
  storage.faults.busyUnmounts = 1000;
  await t.rejects(storage.unmount(disk, { timeoutMs: 100, noLazy: true }), { code: 'EBUSY' });
  await storage.unmount(disk, { timeoutMs: 100 });
  t.match(warnings, [/lazy/]);
  await storage.mount(disk);
  t.pass('unmounted: can mount again');
});

t.test('a disk that disappears mid-wipe gives EDISCONNECTED', async (t) => {
  const { disk, storage, drives } = await setup(t);
  let removed = false;
  await t.rejects(
    storage.fullWipe(disk, {
      onProgress: () => {
        if (!removed) {
          removed = true;
          void drives.remove(1);
        }
      },
    }),
    { code: 'EDISCONNECTED' },
  );
  await t.rejects(storage.format(disk, { label: 'X' }), { code: 'ENOTSLOTDISK' });
});

t.test('the drives I/O-error flag makes storage refuse with EIO', async (t) => {
  const { disk, storage, drives } = await setup(t);
  drives.setIoError(1);
  await t.rejects(storage.format(disk, { label: 'X' }), { code: 'EIO', message: /slot 1/ });
  drives.setIoError(1, null);
  await storage.format(disk, { label: 'X' });
});

t.test('format empties the disk; a mountpoint is a symlink removed on unmount', async (t) => {
  const { disk, storage, dir } = await setup(t);
  await storage.format(disk, { label: 'A' });
  const mp = path.join(dir, 'mnt', 'slot-1');
  const m = await storage.mount(disk, { mountpoint: mp });
  t.equal(m.mountpoint, mp);
  await writeFile(path.join(mp, 'f'), 'x');
  await storage.unmount(disk);
  t.same(await readdir(path.join(dir, 'mnt')), []);
  t.same((await drives(disk, storage)).length, 1, 'data kept across unmount');
  await storage.format(disk, { label: 'B' });
  t.same(await drives(disk, storage), [], 'format empties it');
});

async function drives(disk: string, storage: SimStorage): Promise<string[]> {
  const m = await storage.mount(disk, { readOnly: true });
  const files = await readdir(m.mountpoint);
  await storage.unmount(disk);
  return files;
}

t.test("block devices are not the simulator's business", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'storage-sim-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const storage = new SimStorage({
    resolveSlotDisk: async (device) => ({
      device,
      kind: 'block',
      slot: 1,
      serial: null,
      sizeBytes: 1,
      usb: true,
      removable: true,
      portPaths: ['x'],
      mountpoints: [],
      readOnly: false,
    }),
  });
  await t.rejects(storage.format(dir, { label: 'X' }), {
    code: 'EINVAL',
    message: /directory disks/,
  });
});
