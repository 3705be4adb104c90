import { spawn } from 'node:child_process';
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createDiskCheckService } from '../../../kiosk/cloning/disk-check.js';
import type { SlotDiskLocator } from '../../../kiosk/cloning/disk-records.js';
import { silentLogger } from '../../../kiosk/log.js';
import { requireRoot } from '../../helpers/loop-device.js';
import { type Kit, kit, openKit, tempDir } from '../fixtures/kit.js';
import { makeRig, type Rig } from './fixtures/rig.js';

const MARKER = 'RENTER-PRIVATE-DATA-7f3a9c';
const events = (k: Kit, type: string) => k.outbox.peek(10_000).filter((e) => e.type === type);

const locator = (rig: Rig, sizeMiB: number): SlotDiskLocator => rig.locate(sizeMiB * 2 ** 20);

/** A renter's writable disk: exFAT with a file holding MARKER. */
async function renterDisk(rig: Rig, slot: number, sizeMiB: number) {
  const d = await rig.addDisk(slot, sizeMiB);
  await rig.storage.format(d.device, { label: 'RENTER' });
  const mnt = await rig.storage.mount(d.device);
  await writeFile(path.join(mnt.mountpoint, 'diary.txt'), MARKER.repeat(1000));
  await rig.storage.unmount(d.device);
  return d;
}

/** Whether MARKER is anywhere on the device (read in 4 MiB chunks, overlap kept). */
async function deviceHolds(device: string, marker: string): Promise<boolean> {
  const fh = await open(device, 'r');
  try {
    const buf = Buffer.alloc(4 * 2 ** 20);
    let pos = 0;
    let tail = '';
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return false;
      const s = tail + buf.subarray(0, bytesRead).toString('latin1');
      if (s.includes(marker)) return true;
      tail = s.slice(-marker.length);
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

function returned(k: Kit, slot: number, diskId?: string) {
  k.slots.transition({
    slot,
    from: 'empty',
    to: 'returned',
    reason: 'test',
    ...(diskId ? { set: { diskId } } : {}),
    also: (d) => {
      if (diskId) d.prepare("INSERT INTO disks (disk_id, updated_at) VALUES (?, 'x')").run(diskId);
    },
  });
}

t.test(
  'an unknown returned writable disk is recorded under its serial and wiped to loaded',
  async (t) => {
    if (!requireRoot(t, ['rsync'])) return;
    const k = kit(t);
    const rig = await makeRig(t, k.db, k.clock);
    const d = await renterDisk(rig, 2, 64);
    returned(k, 2);
    t.equal(k.slots.get(2).diskId, null, 'the kiosk has never seen this disk');
    const checks = createDiskCheckService({
      db: k.db,
      slots: k.slots,
      clock: k.clock,
      log: silentLogger(),
      storage: rig.storage,
      relay: rig.relay,
      locateDisk: locator(rig, 64),
    });
    t.equal(await checks.checkReturned(2), 'loaded');
    t.equal(k.slots.get(2).diskId, 'disk-SER2');
    t.match(
      k.db
        .prepare('SELECT usb_serial, last_seen_slot, health FROM disks WHERE disk_id = ?')
        .get('disk-SER2'),
      {
        usb_serial: 'SER2',
        last_seen_slot: 2,
        health: 'good',
      },
    );
    t.match(events(k, 'DiskChecked').at(-1)?.data, {
      slot: 2,
      diskId: 'disk-SER2',
      result: 'loaded',
    });
    await t.rejects(
      rig.storage.mount(d.device, { readOnly: true }),
      'no filesystem left after the wipe',
    );
    t.same(k.db.prepare('SELECT count(*) AS n FROM wipe_jobs').get(), { n: 0 }, 'no wipe job left');
  },
);

t.test(
  'a check killed mid-wipe is resumed at restart: the renter data is gone before the disk is loaded',
  async (t) => {
    if (!requireRoot(t, ['rsync'])) return;
    const dir = tempDir(t, 'wipe-crash-');
    const k0 = openKit(dir);
    const rig = await makeRig(t, k0.db, k0.clock);
    const disk = await renterDisk(rig, 1, 256);
    t.ok(await deviceHolds(disk.device, MARKER), 'the renter data is on the disk to begin with');
    returned(k0, 1, 'disk-R');
    k0.db.close();
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/check-child.ts', import.meta.url)),
        dir,
        disk.device,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (x) => {
      stderr += x;
    });
    const k = openKit(dir);
    t.teardown(() => k.db.close());
    const jobRow = () =>
      k.db.prepare('SELECT kind, mode FROM wipe_jobs WHERE slot = 1').get() as
        | { kind: string; mode: string }
        | undefined;
    const deadline = Date.now() + 60_000;
    while (!jobRow()) {
      if (Date.now() > deadline || child.exitCode !== null) {
        t.fail(`the check never started: ${stderr}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    t.equal(k.slots.get(1).state, 'preparing', 'killed while checking');
    t.same(jobRow(), { kind: 'check', mode: 'full' }, 'the interrupted wipe is on record');
    t.equal(events(k, 'WipeCompleted').length, 0);
    await rig.storage.unmount(disk.device).catch(() => undefined);

    const checks = createDiskCheckService({
      db: k.db,
      slots: k.slots,
      clock: k.clock,
      log: silentLogger(),
      storage: rig.storage,
      relay: rig.relay,
      locateDisk: locator(rig, 256),
    });
    await checks.recover();
    t.equal(k.slots.get(1).state, 'preparing', 'not loaded (nor offered) while the wipe resumes');
    await checks.idle();
    t.equal(k.slots.get(1).state, 'loaded', 'loaded once the wipe is done');
    t.notOk(await deviceHolds(disk.device, MARKER), 'the renter data is gone');
    t.equal(
      (await readFile(disk.device)).subarray(0, 2 ** 20).some((b) => b !== 0),
      false,
      'no filesystem signature',
    );
    t.match(events(k, 'WipeCompleted').at(-1)?.data, { slot: 1, diskId: 'disk-R', mode: 'full' });
    t.match(events(k, 'DiskChecked').at(-1)?.data, { slot: 1, result: 'loaded' });
    t.equal(jobRow(), undefined, 'the wipe job is cleared with the transition');
  },
);

t.test(
  'a slot pre-staging left in preparing (no prepare job claims it) is wiped at restart',
  async (t) => {
    if (!requireRoot(t, ['rsync'])) return;
    const k = kit(t);
    const rig = await makeRig(t, k.db, k.clock);
    const d = await renterDisk(rig, 3, 64);
    k.slots.transition({
      slot: 3,
      from: 'empty',
      to: 'loaded',
      reason: 'test',
      set: { diskId: 'disk-P' },
      also: (x) =>
        x.prepare("INSERT INTO disks (disk_id, updated_at) VALUES ('disk-P', 'x')").run(),
    });
    k.slots.transition({ slot: 3, from: 'loaded', to: 'preparing', reason: 'pre-staging' });
    const checks = createDiskCheckService({
      db: k.db,
      slots: k.slots,
      clock: k.clock,
      log: silentLogger(),
      storage: rig.storage,
      relay: rig.relay,
      locateDisk: locator(rig, 64),
    });
    await checks.recover();
    await checks.idle();
    t.equal(k.slots.get(3).state, 'loaded');
    await t.rejects(
      rig.storage.mount(d.device, { readOnly: true }),
      'the filesystem is gone (quick wipe)',
    );
    t.match(events(k, 'WipeCompleted').at(-1)?.data, { slot: 3, diskId: 'disk-P', mode: 'quick' });
  },
);
