import t from 'tap';
import { Daemon } from '../../../kiosk/daemon.js';
import { silentLogger } from '../../../kiosk/log.js';
import { type Rig, simConfig, startRig } from '../daemon/harness.js';

const outboxSize = (rig: Rig) =>
  (rig.daemon.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;

t.test(
  'jammed, not pulled in the window; pulled later -> DiskRemoved once, fault without disk',
  async (t) => {
    const rig = await startRig(t);
    const diskId = rig.stock(2);
    rig.sim.injectJam(2);
    const cmd = rig.dispense({ slot: 2, diskId, orderId: 'order-2', pickupWindowSeconds: 1 });
    t.same(await rig.hub.call('Dispense', cmd), { status: 'Accepted' });
    await rig.until('jammed', () => rig.eventsOf('DispenseCompleted').length === 1);
    t.match(rig.eventsOf('DispenseCompleted')[0], { outcome: 'jammed' });
    t.equal(rig.daemon.slots.get(2).diskId, diskId);
    rig.sim.takeDisk(2);
    await rig.until('DiskRemoved', () => rig.eventsOf('DiskRemoved').length === 1);
    const [removed] = rig.eventsOf('DiskRemoved');
    t.match(removed, { slot: 2, diskId, state: 'fault', serviceDoorOpen: false });
    t.match(removed.reason, /EJAM/);
    const slot = rig.daemon.slots.get(2);
    t.equal(slot.state, 'fault', 'the jam still needs a technician');
    t.equal(slot.fault?.code, 'EJAM');
    t.equal(slot.diskId, null);
    const disk = rig.daemon.db
      .prepare('SELECT last_seen_slot FROM disks WHERE disk_id = ?')
      .get(diskId) as { last_seen_slot: number | null };
    t.equal(disk.last_seen_slot, null, 'the disk is no longer seen in a slot');
    await rig.until('outbox drained', () => outboxSize(rig) === 0);
    t.equal(rig.eventsOf('DiskRemoved').length, 1);
    t.equal(rig.eventsOf('DispenseCompleted').length, 1);
  },
);

t.test('door shut: a disk taken from a ready slot -> fault EDISKREMOVED', async (t) => {
  const rig = await startRig(t);
  const diskId = rig.stock(1);
  rig.sim.takeDisk(1);
  await rig.until('DiskRemoved', () => rig.eventsOf('DiskRemoved').length === 1);
  t.match(rig.eventsOf('DiskRemoved')[0], {
    slot: 1,
    diskId,
    state: 'ready',
    serviceDoorOpen: false,
  });
  const slot = rig.daemon.slots.get(1);
  t.equal(slot.state, 'fault');
  t.equal(slot.fault?.code, 'EDISKREMOVED');
  t.equal(slot.diskId, null);
  await rig.until('FaultRaised', () =>
    rig.eventsOf('FaultRaised').some((f) => f.slot === 1 && f.code === 'EDISKREMOVED'),
  );
});

t.test('door open: a technician unloading a ready slot -> empty, flagged as such', async (t) => {
  const rig = await startRig(t);
  const diskId = rig.stock(3);
  await rig.gpio.setInput('door', 1);
  t.equal((await rig.gpio.readInputs()).door, 'open');
  rig.sim.takeDisk(3);
  await rig.until('DiskRemoved', () => rig.eventsOf('DiskRemoved').length === 1);
  const [removed] = rig.eventsOf('DiskRemoved');
  t.match(removed, { slot: 3, diskId, state: 'ready', serviceDoorOpen: true });
  t.match(removed.reason, /service door open/);
  t.equal(rig.daemon.slots.get(3).state, 'empty');
  t.equal(rig.eventsOf('FaultRaised').length, 0, 'no fault for a technician unloading');
});

t.test(
  'a disabled slot keeps its state, loses its disk; an empty slot reports nothing',
  async (t) => {
    const rig = await startRig(t);
    const diskId = rig.stock(4);
    rig.daemon.slots.transition({ slot: 4, from: 'ready', to: 'disabled', reason: 'test' });
    rig.sim.takeDisk(4);
    await rig.until('DiskRemoved', () => rig.eventsOf('DiskRemoved').length === 1);
    t.match(rig.eventsOf('DiskRemoved')[0], { slot: 4, diskId, state: 'disabled' });
    t.equal(rig.daemon.slots.get(4).state, 'disabled');
    t.equal(rig.daemon.slots.get(4).diskId, null);
    // A disk in and out of an empty slot: a return that went away, no disk of ours left.
    rig.sim.insertDisk(2);
    rig.sim.takeDisk(2);
    rig.sim.takeDisk(4); // a repeated report for a slot without a disk
    await rig.until('outbox drained', () => outboxSize(rig) === 0);
    t.equal(rig.eventsOf('DiskRemoved').length, 1);
  },
);

t.test('restart: a disk missing at start-up -> DiskRemoved once, not at every boot', async (t) => {
  const rig = await startRig(t);
  const diskId = rig.stock(1);
  await rig.until('outbox drained', () => outboxSize(rig) === 0);
  await rig.daemon.stop();
  // A fresh board simulator powers on empty: the disk of slot 1 went while kioskd was down.
  const config = simConfig(rig.dir, rig.hub.url, rig.keys.publicKeyPem);
  for (let boot = 1; boot <= 2; boot++) {
    const daemon = new Daemon({ config, log: silentLogger(), env: {} });
    t.teardown(() => daemon.stop());
    const report = await daemon.start();
    if (boot === 1) t.match(report.slots[1], /disk missing \(was ready\): fault/);
    else t.equal(report.slots[1], undefined, 'nothing to reconcile at the second boot');
    await rig.until(`boot ${boot} delivered`, () => {
      const n = daemon.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number };
      return rig.hub.boots.length > boot && n.n === 0;
    });
    t.equal(daemon.slots.get(1).state, 'fault');
    t.equal(daemon.slots.get(1).fault?.code, 'EDISKMISSING');
    t.equal(daemon.slots.get(1).diskId, null);
    await daemon.stop();
  }
  const removed = rig.eventsOf('DiskRemoved');
  t.equal(removed.length, 1, 'reported once over two boots');
  t.match(removed[0], { slot: 1, diskId, state: 'ready' });
  t.match(removed[0].reason, /start-up/);
});
