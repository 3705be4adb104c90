// kioskd's update flow for real (root): InstallUpdate -> download (resumed after a cut) ->
// waiting while a dispense holds the update lock -> RAUC installs into the other slot of a
// partitioned loop device -> reboot request -> the firmware (the rig) boots the new slot ->
// kioskd on trial: self-test, hub, mark-good -> committed. Then a technician's install from a
// file whose new slot never gets a running kioskd: the kiosk comes back on the old slot and
// reports rolled_back with both versions.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { requireRoot } from '../../helpers/loop-device.js';
import { BACKEND, RAUC_RIG_TOOLS, slotOf } from '../../helpers/rauc-rig.js';
import { imagesDir } from '../../images/fake-root.js';
import { startUpdateRig } from './update-rig.js';

t.test(
  'InstallUpdate: waits for a dispense, installs, reboots, commits on the new slot',
  async (t) => {
    if (!requireRoot(t, RAUC_RIG_TOOLS)) return;
    const rig = await startUpdateRig(t);
    const { hub } = rig;
    t.equal(hub.boots.at(-1)?.imageVersion, '1.0.0', 'Boot carries the image version');

    // A renter's dispense in progress: the disk is out, waiting to be taken.
    const board = rig.stockDisk(1, 'disk-1');

    const bundle = rig.serve(rig.rauc.bundle({ version: '2.0.0' }));
    rig.origin.faults.cutAfterBytes = 40_000; // the first download is cut: resumed with Range
    rig.origin.faults.cutTimes = 1;
    // Dispense first, then the update.
    const dispense = await hub.call('Dispense', rig.dispense(1, 'disk-1'));
    t.same(dispense, { status: 'Accepted' });
    await rig.until('disk at the pickup position', () => !board.sim.sensors(1).seated, 30_000);
    t.same(await rig.install(bundle, '2.0.0'), { status: 'Accepted' });
    await rig.until('waiting for the dispense', () =>
      rig.statuses().some((s) => s.state === 'waiting'),
    );
    const waiting = rig.statuses().find((s) => s.state === 'waiting');
    t.same(waiting?.waitingFor, ['dispense slot 1'], 'the dispense holds the update lock');
    t.equal(rig.rauc.boot('tryboot.txt'), undefined, 'nothing installed while it does');
    t.ok(
      rig.origin.requests.some((r) => r.range?.startsWith('bytes=')),
      'the cut download was resumed with a Range request',
    );
    const dl = rig.statuses().filter((s) => s.state === 'downloading');
    t.equal(dl.at(-1)?.percent, 100, 'download progress up to 100 %');

    board.sim.takeDisk(1); // the renter takes the disk: the dispense ends, the lock is free
    await rig.until('the reboot request', () => existsSync(rig.rebootFile), 60_000);
    t.same(
      [...new Set(rig.statuses().map((s) => s.state))],
      ['downloading', 'waiting', 'installing', 'rebooting'],
      'each step reported in order',
    );
    t.ok(rig.statuses().every((s) => s.version === '2.0.0' && s.fromVersion === '1.0.0'));
    t.equal(
      readFileSync(rig.rebootFile, 'utf8'),
      'tryboot\n',
      'kioskd asks for the tryboot reboot',
    );
    t.match(rig.rauc.boot('tryboot.txt') ?? '', /^# disk-kiosk-slot=B /m, 'RAUC wrote slot B');
    const completed = hub.events.filter((e) => e.type === 'DispenseCompleted');
    t.equal(
      (completed[0]?.data as { outcome?: string })?.outcome,
      'taken',
      'the dispense finished first',
    );

    // root's update-reboot, then the firmware's one tryboot of slot B, kioskd starts there.
    const r = rig.rauc.handleRebootRequest(rig.rebootFile);
    t.same(r.systemctl, ['reboot', '0 tryboot'], r.out);
    const bootsBefore = hub.boots.length;
    t.equal(await rig.reboot({ tryboot: true }), 'B');
    await rig.until('committed', () => rig.statuses().some((s) => s.state === 'committed'), 30_000);
    const states = rig.statuses().map((s) => s.state);
    t.ok(states.indexOf('trial') < states.indexOf('committed'), 'trial, then committed');
    const boot = hub.boots[bootsBefore];
    t.equal(boot?.imageVersion, '2.0.0', 'the kiosk runs the new version');
    t.equal(boot?.bootReason, 'SoftwareUpdate');
    const st = rig.rauc.status();
    t.equal(st.booted, 'B');
    t.equal(st.boot_primary, 'rootfs.1', 'slot B committed');
    t.equal(slotOf(st, 'B').boot_status, 'good');
    t.match(rig.rauc.boot('config.txt') ?? '', /^# disk-kiosk-slot=B /m);
    t.equal(rig.rauc.boot('tryboot.txt'), undefined);
    t.equal(rig.daemon.updateLock.updating, null, 'the update lock is free again: the kiosk sells');

    // A re-sent InstallUpdate for the version it runs: committed at once, nothing installed.
    t.same(await rig.install(bundle, '2.0.0'), { status: 'Accepted' });
    await rig.until('already running', () =>
      rig.statuses().some((s) => s.state === 'committed' && /already running/.test(s.reason ?? '')),
    );
  },
);

t.test(
  'kioskctl update install FILE; the new slot never runs kioskd: rolled_back with both versions',
  async (t) => {
    if (!requireRoot(t, RAUC_RIG_TOOLS)) return;
    const rig = await startUpdateRig(t);
    const file = path.join(rig.dir, 'usb-stick.raucb');
    writeFileSync(file, readFileSync(rig.rauc.bundle({ version: '3.0.0' })));
    const inst = await rig.ctl(['update', 'install', file]);
    t.equal(inst.code, 0, inst.stderr);
    await rig.until('the reboot request', () => existsSync(rig.rebootFile));
    t.match(inst.stdout, /version 3\.0\.0 installed; the kiosk reboots into it now/);
    t.match(inst.stderr, /update: installing/, 'progress shown');
    const status = await rig.ctl(['update', 'status']);
    t.match(status.stdout, /update: version 3\.0\.0 \(from 1\.0\.0\) rebooting/);
    t.match(status.stdout, /^B\s+rootfs\.1\s+good\s+3\.0\.0\s+next boot$/m);
    const tech = rig.hub.events.find(
      (e) =>
        e.type === 'TechnicianAction' && (e.data as { action: string }).action === 'update.install',
    );
    t.ok(tech, 'recorded for the audit log');

    // The firmware starts slot B once; its kioskd does not start. The image's trial guard
    // leaves its trace and reboots; the firmware comes back to A by itself.
    t.ok(rig.rauc.handleRebootRequest(rig.rebootFile).systemctl.includes('0 tryboot'));
    t.equal(await rig.reboot({ tryboot: true, startKioskd: false }), 'B');
    const conf = path.join(rig.dir, 'kiosk.conf');
    writeFileSync(conf, 'UPDATE_TRIAL_SECONDS=0\n');
    const guard = spawnSync(path.join(imagesDir, 'rootfs/usr/libexec/disk-kiosk/trial-guard'), [], {
      encoding: 'utf8',
      env: {
        ...process.env,
        ...rig.rauc.env,
        RAUC_TRYBOOT: BACKEND,
        KIOSK_CONF: conf,
        TRIAL_GUARD_POLL: '0.1',
        DISK_KIOSK_UPDATES_DIR: path.join(rig.dir, 'data', 'updates'),
        PATH: `${path.join(rig.rauc.dir, 'fake-bin')}:${process.env.PATH}`,
      },
    });
    t.match(guard.stdout, /slot B was not committed within 0 s: rebooting to slot A/, guard.stderr);
    const bootsBefore = rig.hub.boots.length;
    t.equal(await rig.reboot({ tryboot: false }), 'A');
    await rig.until('rolled_back', () => rig.statuses().some((s) => s.state === 'rolled_back'));
    const rb = rig.statuses().find((s) => s.state === 'rolled_back');
    t.equal(rb?.version, '3.0.0', 'the version that failed');
    t.equal(rb?.fromVersion, '1.0.0', 'the version running again');
    t.equal(rb?.code, 'ETRIALFAILED');
    t.match(
      rb?.reason ?? '',
      /started on slot B but was not committed \(its kioskd never started\)/,
    );
    t.equal(rig.hub.boots[bootsBefore]?.imageVersion, '1.0.0');
    t.equal(rig.hub.boots[bootsBefore]?.bootReason, 'SoftwareUpdate');
    await rig.until('acknowledged', () => rig.rauc.boot('tryboot.txt') === undefined);
    const st = rig.rauc.status();
    t.equal(st.booted, 'A');
    t.equal(slotOf(st, 'B').boot_status, 'bad', 'rauc status: the failed slot is bad');
    const after = await rig.ctl(['update', 'status']);
    t.match(after.stdout, /update: none in progress/);
    t.match(after.stdout, /3\.0\.0\s+1\.0\.0\s+rolled_back\s+tech-alice\s+ETRIALFAILED/);
  },
);
