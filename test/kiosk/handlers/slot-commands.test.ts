import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startRig } from '../daemon/harness.js';

t.test('SetWriteProtect, DisableSlot/EnableSlot, unknown slots', async (t) => {
  const rig = await startRig(t);
  rig.stock(1);
  const id = () => randomUUID();
  t.same(await rig.hub.call('SetWriteProtect', { commandId: id(), slot: 1, on: false }), {
    status: 'Accepted',
  });
  t.equal(await rig.gpio.getWriteProtect(1), false);
  t.equal(rig.daemon.slots.get(1).writeProtect, false);
  const unknown = await rig.hub.call('SetWriteProtect', { commandId: id(), slot: 7, on: true });
  t.equal(unknown.status, 'Rejected');
  t.match(unknown.reason, /slot 7 does not exist/);

  t.same(await rig.hub.call('DisableSlot', { commandId: id(), slot: 1, reason: 'service' }), {
    status: 'Accepted',
  });
  t.equal(rig.daemon.slots.get(1).state, 'disabled');
  t.same(
    await rig.hub.call('DisableSlot', { commandId: id(), slot: 1 }),
    { status: 'Accepted' },
    'idempotent',
  );
  const refused = await rig.hub.call('Dispense', rig.dispense({ slot: 1, diskId: 'disk-1' }));
  t.match(refused, { status: 'Rejected', reason: /disabled/ });
  t.same(await rig.hub.call('EnableSlot', { commandId: id(), slot: 1 }), { status: 'Accepted' });
  t.equal(rig.daemon.slots.get(1).state, 'loaded', 'a disk is there: loaded, to be checked again');
  t.same(await rig.hub.call('DisableSlot', { commandId: id(), slot: 2 }), { status: 'Accepted' });
  t.same(await rig.hub.call('EnableSlot', { commandId: id(), slot: 2 }), { status: 'Accepted' });
  t.equal(rig.daemon.slots.get(2).state, 'empty');
  t.match(await rig.hub.call('EnableSlot', { commandId: id(), slot: 2 }), {
    status: 'Rejected',
    reason: /not disabled/,
  });
  t.match(await rig.hub.call('DisableSlot', { commandId: id(), slot: 200 }), {
    status: 'Rejected',
    reason: /slot 200 does not exist/,
  });
  await rig.until('SlotStateChanged to disabled', () =>
    rig.eventsOf('SlotStateChanged').some((e) => e.slot === 1 && e.to === 'disabled'),
  );
});

t.test('CancelReservation: reserved -> ready, row cancelled, ReservationCancelled', async (t) => {
  const rig = await startRig(t);
  const resId = randomUUID();
  rig.stock(3, { reservationId: resId });
  const commandId = randomUUID();
  t.same(await rig.hub.call('CancelReservation', { commandId, reservationId: resId }), {
    status: 'Accepted',
  });
  t.equal(rig.daemon.slots.get(3).state, 'ready');
  t.equal(rig.daemon.slots.get(3).reservationId, null);
  const row = rig.daemon.db
    .prepare('SELECT state FROM reservations WHERE reservation_id = ?')
    .get(resId) as { state: string };
  t.equal(row.state, 'cancelled');
  await rig.until('ReservationCancelled', () => rig.eventsOf('ReservationCancelled').length === 1);
  t.match(rig.eventsOf('ReservationCancelled')[0], { commandId, reservationId: resId, slot: 3 });
  t.match(
    await rig.hub.call('CancelReservation', {
      commandId: randomUUID(),
      reservationId: randomUUID(),
    }),
    {
      status: 'Rejected',
      reason: /unknown reservation/,
    },
  );
});

t.test('TriggerMessage, PrepareDisk/WipeDisk without the cloning build, Reset', async (t) => {
  const rig = await startRig(t, { deps: { extensions: {} } });
  const inv = rig.hub.inventories.length;
  t.same(await rig.hub.call('TriggerMessage', { commandId: randomUUID(), message: 'Inventory' }), {
    status: 'Accepted',
  });
  await rig.until('a fresh Inventory', () => rig.hub.inventories.length === inv + 1);
  t.equal(rig.hub.inventories.at(-1)?.slots.length, 4);
  const hb = rig.hub.heartbeats;
  await rig.hub.call('TriggerMessage', { commandId: randomUUID(), message: 'Heartbeat' });
  await rig.until('a Heartbeat', () => rig.hub.heartbeats === hb + 1);

  const wipe = await rig.hub.call(
    'WipeDisk',
    (await import('../../../protocol/index.js')).signCommand(
      rig.keys.privateKeyPem,
      'kiosk-t1',
      'WipeDisk',
      { commandId: randomUUID(), slot: 1, mode: 'quick' },
      { ttlMs: 60_000 },
    ) as never,
  );
  t.same(wipe, { status: 'Rejected', reason: 'not supported by this kiosk build' });

  const inv2 = rig.hub.inventories.length;
  t.same(await rig.hub.call('Reset', { commandId: randomUUID(), kind: 'Soft' }), {
    status: 'Accepted',
  });
  await rig.until('Inventory after a soft reset', () => rig.hub.inventories.length === inv2 + 1);
  t.same(await rig.hub.call('Reset', { commandId: randomUUID(), kind: 'Hard' }), {
    status: 'Accepted',
  });
  t.equal(await rig.daemon.exitRequested, 75, 'hard reset asks to exit with 75');
});
