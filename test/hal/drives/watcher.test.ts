import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { SimDrives, simPortPaths } from '../../../hal/drives/sim.js';
import { DrivesError, type SlotDisk } from '../../../hal/drives/types.js';

async function tmpDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'drives-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function record(drives: SimDrives) {
  const events: string[] = [];
  drives.on('attach', (d: SlotDisk) => events.push(`attach ${d.slot} ${d.serial}`));
  drives.on('detach', (d: SlotDisk) => events.push(`detach ${d.slot} ${d.serial}`));
  return events;
}

t.test('attach/detach come from diffing successive scans', async (t) => {
  const dir = await tmpDir(t);
  const drives = new SimDrives({
    pollIntervalMs: 10_000,
    disks: { 1: { dir: `${dir}/a`, serial: 'A' } },
  });
  const events = record(drives);
  t.teardown(() => drives.stop());
  await drives.start();
  t.same(events, ['attach 1 A'], 'disks present at start are announced');
  await drives.insert(2, { dir: `${dir}/b`, serial: 'B' });
  t.same(events, ['attach 1 A', 'attach 2 B'], 'an insert is noticed at once, as udev reports it');
  await drives.rescan();
  t.equal(events.length, 2, 'an unchanged scan emits nothing');
  await drives.remove(1);
  await drives.remove(2);
  await drives.insert(2, { dir: `${dir}/c`, serial: 'C' });
  await drives.rescan();
  t.same(
    events.slice(2),
    ['detach 1 A', 'detach 2 B', 'attach 2 C'],
    'a swap is detach then attach',
  );
  t.same(
    (await drives.list()).map((d) => [d.slot, d.serial, d.kind]),
    [[2, 'C', 'directory']],
  );
  t.equal(await drives.diskForSlot(1), undefined);
});

t.test('polling emits without rescan()', async (t) => {
  const dir = await tmpDir(t);
  const drives = new SimDrives({ watch: 'poll', pollIntervalMs: 20 });
  t.teardown(() => drives.stop());
  await drives.start();
  const attached = new Promise<SlotDisk>((resolve) => drives.once('attach', resolve));
  await drives.insert(3, { dir: `${dir}/p`, serial: 'P' });
  const disk = await attached;
  t.equal(disk.slot, 3);
  t.equal(disk.serial, 'P');
});

t.test(
  'calibration records the USB2 and USB3 paths of a port, persisted and reloaded',
  async (t) => {
    const dir = await tmpDir(t);
    const calibrationFile = path.join(dir, 'etc', 'slots.json');
    const drives = new SimDrives({ calibrationFile, pollIntervalMs: 10_000 });
    t.teardown(() => drives.stop());
    await drives.start();
    t.same(drives.mappings(), [], 'with a calibration file the sim starts uncalibrated');
    await drives.insert(2, { dir: `${dir}/x`, serial: 'X', bus: 'usb2' });
    t.same(await drives.list(), [], 'an uncalibrated port gives no slot disk');
    t.equal((await drives.candidates()).length, 1, 'but the disk is a candidate');

    // The technician is told "insert a disk into slot 5"; physically it is port 2.
    await drives.remove(2);
    const pending = drives.calibrate(5, { timeoutMs: 5000 });
    await drives.insert(2, { dir: `${dir}/x`, serial: 'X', bus: 'usb2' });
    const first = await pending;
    const [usb2, usb3] = simPortPaths(2);
    t.same(first.added, [usb2]);
    t.same(first.portPaths, [usb2]);
    t.equal(first.disk.serial, 'X');
    t.equal((await drives.diskForSlot(5))?.serial, 'X');

    await drives.remove(2);
    const second = drives.calibrate(5, { timeoutMs: 5000 });
    await drives.insert(2, { dir: `${dir}/y`, serial: 'Y', bus: 'usb3' });
    t.same((await second).portPaths, [usb2, usb3]);
    t.same(JSON.parse(await readFile(calibrationFile, 'utf8')), {
      version: 1,
      slots: { '5': [usb2, usb3] },
    });

    const again = new SimDrives({ calibrationFile, pollIntervalMs: 10_000 });
    t.teardown(() => again.stop());
    await again.insert(2, { dir: `${dir}/z`, serial: 'Z', bus: 'usb2' });
    await again.start();
    t.same(
      (await again.list()).map((d) => [d.slot, d.serial]),
      [[5, 'Z']],
      'the table is loaded at start',
    );

    await again.forgetSlot(5);
    t.same(await again.list(), []);
    t.same(JSON.parse(await readFile(calibrationFile, 'utf8')).slots, {});
  },
);

t.test('calibrating a port moves it away from its previous slot', async (t) => {
  const dir = await tmpDir(t);
  const drives = new SimDrives({ pollIntervalMs: 10_000 });
  t.teardown(() => drives.stop());
  const pending = drives.calibrate(1, { timeoutMs: 5000 });
  await drives.insert(2, { dir: `${dir}/m`, serial: 'M' });
  await pending;
  const slots = Object.fromEntries(drives.mappings().map((m) => [m.slot, m.portPaths]));
  t.same(slots[1], [simPortPaths(1)[0], simPortPaths(1)[1], simPortPaths(2)[1]].sort());
  t.same(slots[2], [simPortPaths(2)[0]]);
});

t.test('calibration failures are typed', async (t) => {
  const dir = await tmpDir(t);
  const drives = new SimDrives({ pollIntervalMs: 10_000 });
  t.teardown(() => drives.stop());
  await t.rejects(drives.calibrate(1, { timeoutMs: 60 }), { code: 'ETIMEOUT', message: /slot 1/ });
  const ctl = new AbortController();
  const aborted = drives.calibrate(1, { timeoutMs: 5000, signal: ctl.signal });
  ctl.abort();
  await t.rejects(aborted, { code: 'EABORTED' });
  const two = drives.calibrate(1, { timeoutMs: 5000 });
  await Promise.all([
    drives.insert(1, { dir: `${dir}/1`, serial: '1' }),
    drives.insert(2, { dir: `${dir}/2`, serial: '2' }),
  ]);
  await t.rejects(two, { code: 'EAMBIGUOUS' });
  t.ok(new DrivesError('ENOPORT', 'x') instanceof Error);
});

t.test('a corrupt calibration table is refused at start with ETABLE', async (t) => {
  const dir = await tmpDir(t);
  const calibrationFile = path.join(dir, 'slots.json');
  await writeFile(calibrationFile, '{"version":1,"slots":{"a":3}}');
  const drives = new SimDrives({ calibrationFile });
  await t.rejects(drives.start(), { code: 'ETABLE', message: /invalid/ });
  await writeFile(calibrationFile, 'nope');
  await t.rejects(new SimDrives({ calibrationFile }).start(), {
    code: 'ETABLE',
    message: /not JSON/,
  });
});

t.test('scan failures during polling are reported as scanError, not thrown', async (t) => {
  const { DriveWatcher } = await import('../../../hal/drives/drive-watcher.js');
  let fail = false;
  const w = new DriveWatcher({
    watch: 'poll',
    pollIntervalMs: 10,
    scanner: {
      scan: async () => {
        if (fail) throw new Error('lsblk died');
        return { disks: [], systemDisks: [] };
      },
    },
  });
  t.teardown(() => w.stop());
  await w.start();
  fail = true;
  const err = await new Promise<DrivesError>((resolve) => w.once('scanError', resolve));
  t.equal(err.code, 'ESCAN');
  t.match(err.message, /lsblk died/);
});

t.test('the I/O-error fault shows on the slot disk', async (t) => {
  const dir = await tmpDir(t);
  const drives = new SimDrives({ disks: { 4: { dir: `${dir}/e` } } });
  t.teardown(() => drives.stop());
  await drives.start();
  drives.setIoError(4);
  t.match((await drives.diskForSlot(4))?.error, /I\/O error/);
  drives.setIoError(4, null);
  t.equal((await drives.diskForSlot(4))?.error, undefined);
  await t.rejects(drives.insert(9, { dir: `${dir}/n` }), { code: 'ENOSLOT' });
});
