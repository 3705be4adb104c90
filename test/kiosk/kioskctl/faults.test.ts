// "A technician can diagnose and fix every fault the simulator can produce using only
// kioskctl": a jam (board simulator), a stuck relay (GPIO simulator) and a disk I/O error
// (drives simulator), each revealed by `kioskctl status`/`slots` and cleared by the right
// kioskctl command, against a real kioskd through its real socket.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startCtlRig } from './ctl-rig.js';

t.test('jam: Dispense jams -> status/slots show EJAM -> slot retract clears it', async (t) => {
  const rig = await startCtlRig(t);
  const diskId = rig.stock(4);
  rig.sim.injectJam(4);
  await rig.hub.call('Dispense', rig.dispense({ slot: 4, diskId }));
  await rig.until('DispenseCompleted', () => rig.eventsOf('DispenseCompleted').length === 1);

  const status = await rig.json(['status']);
  t.match(
    status.faults,
    [{ slot: 4, code: 'EJAM', hint: /slot retract 4/ }],
    'status names the jam and the fix',
  );
  const slots = await rig.ctl(['slots']);
  t.match(slots.stdout, /^4\s+fault\s+disk-4.*EJAM/m, 'slots table shows the faulted slot');

  const fix = await rig.ctl(['slot', 'retract', '4']);
  t.equal(fix.code, 0, fix.stderr);
  t.match(fix.stdout, /slot 4: retract done; slot is now loaded/);
  t.equal(rig.daemon.slots.get(4).state, 'loaded');
  t.notOk(rig.sim.sensors(4).motorFault, 'motor latch cleared by the self-test');
  const after = await rig.json(['status']);
  t.same(after.faults, [], 'no fault left');
  await rig.until('FaultCleared', () => rig.eventsOf('FaultCleared').some((e) => e.slot === 4));
  await rig.until('audit', () =>
    rig
      .eventsOf('TechnicianAction')
      .some((e) => e.action === 'slot.retract' && e.actor === 'tech-alice'),
  );
});

t.test(
  'stuck relay: test relays fails and faults the slot -> repaired -> test relays clears it',
  async (t) => {
    const rig = await startCtlRig(t);
    rig.gpio.setRelayFault(2, 'stuck');
    const test = await rig.ctl(['test', 'relays']);
    t.equal(test.code, 1, 'a failing test exits non-zero');
    t.match(test.stdout, /^2\s+relay\s+FAIL\s+EVERIFY/m);
    t.match(test.stdout, /^1\s+relay\s+PASS/m);
    const status = await rig.json(['status']);
    t.match(status.faults, [{ slot: 2, code: 'ERELAY', hint: /test relays 2/ }]);
    t.match((await rig.ctl(['slots'])).stdout, /^2\s+fault.*ERELAY/m);

    rig.gpio.setRelayFault(2, null); // the technician replaces the relay
    const retest = await rig.ctl(['test', 'relays', '2']);
    t.equal(retest.code, 0, retest.stdout);
    t.match(retest.stdout, /fault ERELAY cleared, slot empty/);
    t.equal(rig.daemon.slots.get(2).state, 'empty');
    t.same((await rig.json(['status'])).faults, []);
    t.equal(await rig.gpio.getWriteProtect(2), true, 'relay left write-protected');
  },
);

t.test('disk I/O error: status shows it -> disable, replace the disk, enable', async (t) => {
  const rig = await startCtlRig(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kioskctl-disk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await rig.drives.insert(3, { dir: path.join(dir, 'a'), serial: 'BAD3' });
  rig.stock(3);
  rig.drives.setIoError(3, 'Buffer I/O error on dev sdc');

  const status = await rig.json(['status']);
  t.match(status.faults, [
    { slot: 3, code: 'EIO', message: /Buffer I\/O error/, hint: /slot disable 3/ },
  ]);
  t.match((await rig.ctl(['slots'])).stdout, /^3\s+ready.*disk: Buffer I\/O error/m);
  t.match((await rig.ctl(['disks'])).stdout, /a\s+3\s+BAD3.*Buffer I\/O error/);

  t.equal((await rig.ctl(['slot', 'disable', '3', '--reason', 'disk I/O errors'])).code, 0);
  // Enabling while the bad disk is still there refuses and says why.
  const early = await rig.ctl(['slot', 'enable', '3']);
  t.equal(early.code, 1);
  t.match(early.stderr, /stays in fault: .*Buffer I\/O error/);
  t.equal(rig.daemon.slots.get(3).state, 'fault');

  // Replace the disk: eject the bad one, put a good one in.
  const ej = await rig.ctl(['slot', 'eject', '3', '--yes']);
  t.equal(ej.code, 0, ej.stderr);
  rig.sim.takeDisk(3);
  await rig.drives.remove(3);
  await rig.drives.insert(3, { dir: path.join(dir, 'b'), serial: 'GOOD3' });
  rig.sim.insertDisk(3);
  await rig.ctl(['slot', 'disable', '3']);
  const en = await rig.ctl(['slot', 'enable', '3']);
  t.equal(en.code, 0, en.stderr);
  t.equal(rig.daemon.slots.get(3).state, 'loaded');
  t.same((await rig.json(['status'])).faults, []);
});
