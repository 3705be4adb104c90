// Drive changes from udev events instead of polling: the monitor's line parser, its child
// restarted when it dies and given up when it cannot run, the watcher scanning once per
// burst of events (and never while nothing happens), falling back to polling, and the
// real `udevadm monitor` reporting a loop device being attached (root).
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { DriveWatcher } from '../../../hal/drives/drive-watcher.js';
import type { ScanResult } from '../../../hal/drives/types.js';
import { parseUdevLine, type UdevEvent, UdevMonitor } from '../../../hal/drives/udev-monitor.js';
import { createLoopDisk, requireRoot } from '../../helpers/loop-device.js';

async function tmpDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'udev-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Resolves with the first value `emitter` emits for `event` that passes `pred`. */
function next<T>(e: EventEmitter, event: string, pred: (x: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const on = (x: T) => {
      if (!pred(x)) return;
      e.off(event, on);
      resolve(x);
    };
    e.on(event, on);
  });
}

t.test('monitor lines: KERNEL and UDEV events parse, anything else is ignored', async (t) => {
  t.same(parseUdevLine('KERNEL[517.416991] change   /devices/virtual/block/loop0 (block)'), {
    source: 'KERNEL',
    action: 'change',
    devpath: '/devices/virtual/block/loop0',
    subsystem: 'block',
  });
  t.same(
    parseUdevLine(
      'UDEV  [1234.601234] add      /devices/platform/scb/fd500000.pcie/usb2/2-1/2-1.3/2-1.3:1.0/host0/target0:0:0/0:0:0:0/block/sda (block)',
    )?.action,
    'add',
  );
  for (const junk of [
    'monitor will print the received events for:',
    'UDEV - the event which udev sends out after rule processing',
    '',
    'KERNEL[x] add /dev (block)',
    'KERNEL[1.0] add relative/path (block)',
    '\u0000\u0001garbage KERNEL[1.0] add /a (block)',
  ]) {
    t.equal(parseUdevLine(junk), undefined, `ignored: ${JSON.stringify(junk.slice(0, 30))}`);
  }
});

t.test('the monitor restarts a dying udevadm and gives up on one that cannot run', async (t) => {
  const dir = await tmpDir(t);
  // A stand-in udevadm: a header, a torn line, two events, then it dies.
  const fake = path.join(dir, 'udevadm');
  await writeFile(
    fake,
    `#!/bin/sh
echo "monitor will print the received events for:"
printf 'KERNEL[1.000001] add      /devices/virtual/block/loop7 (block)\\nUDEV  [1.2] remove   /devices/virtual/bl'
printf 'ock/loop7 (block)\\n'
exit 3
`,
  );
  await chmod(fake, 0o755);
  const m = new UdevMonitor({
    command: fake,
    restartMs: 20,
    maxRestartMs: 40,
    maxQuickFailures: 3,
  });
  const events: UdevEvent[] = [];
  let starts = 0;
  m.on('event', (e) => events.push(e));
  m.on('started', () => starts++);
  const gaveUp = next<string>(m, 'unavailable');
  t.teardown(() => m.stop());
  m.start();
  t.match(await gaveUp, /keeps exiting \(last: exit 3\)/, 'gives up after 3 quick deaths');
  t.equal(starts, 3, 'restarted after each death');
  t.same(
    events.slice(0, 2).map((e) => `${e.source} ${e.action} ${e.devpath}`),
    ['KERNEL add /devices/virtual/block/loop7', 'UDEV remove /devices/virtual/block/loop7'],
    'a line torn across two writes is joined',
  );
  t.equal(events.length, 6, 'two events per run');

  const missing = new UdevMonitor({ command: path.join(dir, 'no-such-udevadm') });
  const why = next<string>(missing, 'unavailable');
  missing.start();
  t.match(await why, /not installed/);
});

t.test(
  'the monitor says it started once udevadm listens (its header ended), not at spawn',
  async (t) => {
    const dir = await tmpDir(t);
    // A stand-in udevadm that takes a while to bind its sockets, then prints its header.
    const bound = path.join(dir, 'bound');
    const fake = path.join(dir, 'udevadm');
    await writeFile(
      fake,
      `#!/bin/sh
sleep 0.2
: > '${bound}'
printf 'monitor will print the received events for:\\nUDEV - the event which udev sends out after rule processing\\n'
printf 'KERNEL - the kernel uevent\\n\\n'
exec sleep 60
`,
    );
    await chmod(fake, 0o755);
    const m = new UdevMonitor({ command: fake });
    t.teardown(() => m.stop());
    const started = next<void>(m, 'started').then(() => existsSync(bound));
    m.start();
    t.equal(
      await started,
      true,
      'started after the sockets were bound: a look then misses nothing',
    );
  },
);

/** A scanner counting its scans, serving `disks`. */
function countingScanner(disks: () => ScanResult['disks']) {
  const s = {
    scans: 0,
    scan: async (): Promise<ScanResult> => {
      s.scans++;
      return { disks: disks(), systemDisks: [] };
    },
  };
  return s;
}

const usbDisk = (device: string, slot: number): ScanResult['disks'][number] => ({
  device,
  kind: 'block',
  serial: `S${slot}`,
  sizeBytes: 1e9,
  usb: true,
  removable: true,
  readOnly: false,
  mountpoints: [],
  byPathNames: [`platform-x-usb-0:1.${slot}:1.0-scsi-0:0:0:0`],
  virtual: false,
  system: false,
});

t.test(
  'udev mode: one scan per burst of events, none while idle; polling when udev is unavailable',
  async (t) => {
    const fakeUdev = Object.assign(new EventEmitter(), { start() {}, stop() {} });
    let present = false;
    const scanner = countingScanner(() => (present ? [usbDisk('/dev/sdq', 2)] : []));
    const w = new DriveWatcher({
      watch: 'udev',
      pollIntervalMs: 20,
      scanner,
      udev: fakeUdev,
      initialTable: { version: 1, slots: { '2': ['platform-x-usb-0:1.2'] } },
    });
    t.teardown(() => w.stop());
    const modes: string[] = [];
    w.on('watching', (m) => modes.push(m));
    await w.start();
    t.equal(scanner.scans, 1, 'one scan at start');
    await new Promise((r) => setTimeout(r, 300));
    t.equal(scanner.scans, 1, 'no scans while nothing happens');

    // Loop devices and the like come and go (tests, images being built): never a slot disk.
    for (const action of ['add', 'change', 'remove'])
      fakeUdev.emit('event', {
        source: 'KERNEL',
        action,
        devpath: '/devices/virtual/block/loop3',
        subsystem: 'block',
      });
    await new Promise((r) => setTimeout(r, 300));
    t.equal(scanner.scans, 1, 'virtual block devices cause no scan');

    present = true;
    const attached = next<{ slot: number }>(w, 'attach');
    for (const action of ['add', 'change', 'add', 'change', 'change'])
      fakeUdev.emit('event', {
        source: 'KERNEL',
        action,
        devpath: '/devices/x/block/sdq',
        subsystem: 'block',
      });
    t.equal((await attached).slot, 2, 'the disk is announced');
    t.equal(scanner.scans, 2, 'five events, one scan');

    present = false;
    const detached = next<{ slot: number }>(w, 'detach');
    fakeUdev.emit('event', {
      source: 'UDEV',
      action: 'remove',
      devpath: '/devices/x/block/sdq',
      subsystem: 'block',
    });
    t.equal((await detached).slot, 2, 'the removal is announced');

    // udevadm gone for good: the watcher polls instead, and says so.
    const polling = next<string>(w, 'watching', (m) => m === 'poll');
    fakeUdev.emit('unavailable', 'udevadm is not installed (package udev)');
    await polling;
    t.same(modes, ['udev', 'poll']);
    // Three scans more (every 20 ms), however late a loaded machine runs the timers.
    const before = scanner.scans;
    const deadline = Date.now() + 10_000;
    while (scanner.scans <= before + 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    t.ok(scanner.scans > before + 2, `polling scans (${scanner.scans - before})`);
  },
);

t.test(
  'udev mode: a fresh scan resolves slot disks until an event, a table change or its age',
  async (t) => {
    const fakeUdev = Object.assign(new EventEmitter(), { start() {}, stop() {} });
    const scanner = countingScanner(() => [usbDisk('/dev/sdq', 2)]);
    const watcher = async (o: { watch: 'udev' | 'none'; resolveReuseMs?: number }) => {
      const w = new DriveWatcher({
        ...o,
        scanner,
        udev: fakeUdev,
        initialTable: { version: 1, slots: { '2': ['platform-x-usb-0:1.2'] } },
      });
      t.teardown(() => w.stop());
      await w.start();
      return w;
    };
    const w = await watcher({ watch: 'udev', resolveReuseMs: 60_000 });
    t.equal(scanner.scans, 1, 'one scan at start');
    for (let i = 0; i < 3; i++) t.equal((await w.resolveSlotDisk('/dev/sdq'))?.slot, 2);
    t.equal(scanner.scans, 1, 'three resolutions, no new scan');
    t.equal((await w.resolveSlotDisk('/dev/sdq', { fresh: true }))?.slot, 2);
    t.equal(scanner.scans, 2, 'asked fresh (before a write): a new scan');

    fakeUdev.emit('event', {
      source: 'UDEV',
      action: 'change',
      devpath: '/devices/x/block/sdq',
      subsystem: 'block',
    });
    t.equal((await w.resolveSlotDisk('/dev/sdq'))?.slot, 2);
    t.equal(scanner.scans, 3, 'an event since the scan: resolving scans');

    await w.forgetSlot(2);
    t.equal(await w.resolveSlotDisk('/dev/sdq'), undefined, 'a forgotten slot resolves to nothing');
    t.ok(scanner.scans > 3, 'the table changed: resolving scanned');
    await w.stop();

    const quick = await watcher({ watch: 'udev', resolveReuseMs: 1 });
    await new Promise((r) => setTimeout(r, 5));
    const before = scanner.scans;
    t.equal((await quick.resolveSlotDisk('/dev/sdq'))?.slot, 2);
    t.equal(scanner.scans, before + 1, 'a scan older than resolveReuseMs is not reused');
    await quick.stop();

    const none = await watcher({ watch: 'none' });
    const n0 = scanner.scans;
    await none.resolveSlotDisk('/dev/sdq');
    await none.resolveSlotDisk('/dev/sdq');
    t.equal(scanner.scans, n0 + 2, 'without udev events every resolution scans');
  },
);

t.test('the real udevadm monitor reports a loop device being attached', async (t) => {
  if (!requireRoot(t, ['udevadm'])) return;
  const m = new UdevMonitor();
  t.teardown(() => m.stop());
  const started = next<void>(m, 'started');
  m.start();
  await started; // its header is out: the netlink sockets are bound
  const seen = next<UdevEvent>(m, 'event', (e) => /\/block\/loop\d+$/.test(e.devpath));
  const disk = await createLoopDisk({ sizeMiB: 4, t });
  const e = await seen;
  t.equal(e.subsystem, 'block');
  t.ok(
    e.devpath.endsWith(`/${path.basename(disk.device)}`) || /loop\d+$/.test(e.devpath),
    e.devpath,
  );
});
