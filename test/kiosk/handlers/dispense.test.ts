import t from 'tap';
import { type Rig, startRig } from '../daemon/harness.js';

const outboxSize = (rig: Rig) =>
  (rig.daemon.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;

t.test('Dispense: taken within the window -> slot empty, DispenseCompleted taken', async (t) => {
  const rig = await startRig(t);
  const diskId = rig.stock(2);
  const cmd = rig.dispense({ slot: 2, diskId, orderId: 'order-1', writeProtect: false });
  const res = await rig.hub.call('Dispense', cmd);
  t.same(res, { status: 'Accepted' });
  await rig.until('disk at the pickup position', () => {
    const s = rig.sim.sensors(2);
    return s.present && !s.seated;
  });
  // The port was powered down and the relay set as ordered before the push.
  t.equal(rig.usb.portState('1-1.2').powered, false, 'USB port powered down while dispensing');
  t.ok(
    rig.gpio.relayLog.some((r) => r.slot === 2 && r.protect === false),
    'relay set as ordered',
  );
  rig.sim.takeDisk(2);
  await rig.until('DispenseCompleted', () => rig.eventsOf('DispenseCompleted').length === 1);
  const [done] = rig.eventsOf('DispenseCompleted');
  t.match(done, {
    commandId: cmd.commandId,
    slot: 2,
    diskId,
    orderId: 'order-1',
    outcome: 'taken',
  });
  t.equal(rig.daemon.slots.get(2).state, 'empty');
  t.equal(rig.sim.ejectCount(2), 1);
  await rig.until('port powered again', () => rig.usb.portState('1-1.2').powered);
  t.equal(
    rig.gpio.relayLog.filter((r) => r.slot === 2).at(-1)?.protect,
    true,
    'relay back to safe',
  );
  // The same command again: stored answer, no second push.
  t.same(await rig.hub.call('Dispense', cmd), { status: 'Accepted' });
  t.equal(rig.sim.ejectCount(2), 1, 'a repeated commandId never pushes again');
  t.equal(rig.daemon.inbox.get(cmd.commandId)?.state, 'done');
});

t.test('Dispense: not taken -> retracted, slot back to reserved, not_taken', async (t) => {
  const rig = await startRig(t);
  const resId = '5b0b7e4e-3f55-4a31-9f7e-0a3a3c8d0a11';
  const diskId = rig.stock(1, { reservationId: resId });
  const cmd = rig.dispense({ slot: 1, diskId, reservationId: resId, pickupWindowSeconds: 1 });
  t.same(await rig.hub.call('Dispense', cmd), { status: 'Accepted' });
  await rig.until('DispenseCompleted', () => rig.eventsOf('DispenseCompleted').length === 1);
  t.match(rig.eventsOf('DispenseCompleted')[0], { outcome: 'not_taken', reservationId: resId });
  t.equal(rig.daemon.slots.get(1).state, 'reserved');
  t.equal(rig.daemon.slots.get(1).reservationId, resId);
  t.ok(rig.sim.sensors(1).seated, 'disk pulled back in');
  t.same(
    rig.sim.record.filter((r) => r.slot === 1).map((r) => r.kind),
    ['eject', 'retract'],
  );
});

t.test('Dispense: refused commands', async (t) => {
  const rig = await startRig(t);
  const diskId = rig.stock(1);
  const resId = '6b0b7e4e-3f55-4a31-9f7e-0a3a3c8d0a12';
  rig.stock(3, { reservationId: resId });
  const cases: Array<[string, ReturnType<typeof rig.dispense>, RegExp]> = [
    ['unknown slot', rig.dispense({ slot: 9, diskId }), /slot 9 does not exist/],
    ['empty slot', rig.dispense({ slot: 2, diskId: 'disk-2' }), /slot 2 is empty, not ready/],
    ['wrong disk', rig.dispense({ slot: 1, diskId: 'disk-x' }), /holds disk disk-1, not disk-x/],
    [
      'reserved for someone else',
      rig.dispense({ slot: 3, diskId: 'disk-3' }),
      /held for another reservation/,
    ],
  ];
  for (const [name, cmd, reason] of cases) {
    const res = await rig.hub.call('Dispense', cmd);
    t.equal(res.status, 'Rejected', name);
    t.match(res.reason, reason, name);
  }
  t.equal(rig.sim.record.length, 0, 'nothing moved');
  t.equal(rig.daemon.slots.get(1).state, 'ready');
  t.equal(rig.daemon.slots.get(3).state, 'reserved');
});

t.test('Dispense: a jam, disk not pulled -> after the window: jammed, slot fault', async (t) => {
  const rig = await startRig(t);
  const diskId = rig.stock(4);
  rig.sim.injectJam(4);
  const cmd = rig.dispense({ slot: 4, diskId, pickupWindowSeconds: 1 });
  t.same(await rig.hub.call('Dispense', cmd), { status: 'Accepted' });
  await rig.until('disk stuck half-way out', () => {
    const s = rig.sim.sensors(4);
    return s.motorFault && s.present && !s.seated;
  });
  t.equal(rig.eventsOf('DispenseCompleted').length, 0, 'not reported while the renter may pull');
  await rig.until('DispenseCompleted', () => rig.eventsOf('DispenseCompleted').length === 1);
  t.match(rig.eventsOf('DispenseCompleted')[0], { outcome: 'jammed' });
  const slot = rig.daemon.slots.get(4);
  t.equal(slot.state, 'fault');
  t.equal(slot.fault?.code, 'EJAM');
  t.equal(slot.diskId, diskId, 'the disk is still in the slot');
  await rig.until('FaultRaised', () => rig.eventsOf('FaultRaised').length === 1);
  t.equal(rig.sim.ejectCount(4), 1);
  t.equal(rig.daemon.inbox.get(cmd.commandId)?.state, 'failed');
});

t.test(
  'Dispense: a jam, disk pulled within the window -> taken, slot fault without disk',
  async (t) => {
    const rig = await startRig(t);
    const diskId = rig.stock(3);
    rig.sim.injectJam(3);
    const cmd = rig.dispense({ slot: 3, diskId, orderId: 'order-j', pickupWindowSeconds: 5 });
    t.same(await rig.hub.call('Dispense', cmd), { status: 'Accepted' });
    await rig.until('disk stuck half-way out', () => rig.sim.sensors(3).motorFault);
    rig.sim.takeDisk(3);
    await rig.until('DispenseCompleted', () => rig.eventsOf('DispenseCompleted').length === 1);
    const [done] = rig.eventsOf('DispenseCompleted');
    t.match(done, { commandId: cmd.commandId, orderId: 'order-j', diskId, outcome: 'taken' });
    t.match(done.reason, /taken from a jammed slot/);
    const slot = rig.daemon.slots.get(3);
    t.equal(slot.state, 'fault', 'the jam still needs a technician');
    t.equal(slot.fault?.code, 'EJAM');
    t.equal(slot.diskId, null, 'the slot no longer holds the disk');
    t.equal(rig.daemon.inbox.get(cmd.commandId)?.state, 'done');
    // The dispense reported the pull itself: the disk watch adds nothing.
    await rig.until('FaultRaised', () => rig.eventsOf('FaultRaised').length === 1);
    await rig.until('outbox drained', () => outboxSize(rig) === 0);
    t.equal(rig.eventsOf('DiskRemoved').length, 0, 'no DiskRemoved for a dispense outcome');
    t.equal(rig.eventsOf('DispenseCompleted').length, 1, 'exactly one DispenseCompleted');
  },
);

t.test(
  'Dispense: a board that stops answering -> ETIMEOUT, fault, never a second push',
  async (t) => {
    const rig = await startRig(t);
    const diskId = rig.stock(2);
    rig.sim.detach(); // the board goes silent: frames are swallowed, nothing answers
    t.same(await rig.hub.call('Dispense', rig.dispense({ slot: 2, diskId })), {
      status: 'Accepted',
    });
    await rig.until(
      'DispenseCompleted',
      () => rig.eventsOf('DispenseCompleted').length === 1,
      10_000,
    );
    const [done] = rig.eventsOf('DispenseCompleted');
    t.equal(done.outcome, 'failed');
    t.match(done.reason, /ETIMEOUT|did not|lost/i);
    const slot = rig.daemon.slots.get(2);
    t.equal(slot.state, 'fault');
    t.equal(slot.fault?.code, 'ETIMEOUT');
    await rig.until('FaultRaised', () => rig.eventsOf('FaultRaised').length === 1);
    t.equal(rig.sim.record.length, 0, 'the silent board never moved');
    const ejects = rig.sim.received.filter((f) => f.cmd === 0x03).length;
    t.equal(ejects, 0, 'the detached simulator saw nothing');
  },
);

t.test(
  'Dispense while the slot board is not connected: failed, slot back, nothing pushed',
  async (t) => {
    const rig = await startRig(t);
    const diskId = rig.stock(3);
    await rig.board.stop(); // as after an unplug: the driver has no link
    t.notOk(rig.board.connected);
    const cmd = rig.dispense({ slot: 3, diskId, orderId: 'order-nb' });
    t.same(await rig.hub.call('Dispense', cmd), { status: 'Accepted' });
    await rig.until('DispenseCompleted', () => rig.eventsOf('DispenseCompleted').length === 1);
    t.match(rig.eventsOf('DispenseCompleted')[0], {
      commandId: cmd.commandId,
      outcome: 'failed',
      reason: /not connected/,
    });
    t.equal(rig.daemon.slots.get(3).state, 'ready', 'not faulted: the disk never moved');
    t.equal(rig.sim.ejectCount(3), 0);
  },
);
