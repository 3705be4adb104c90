import { randomUUID } from 'node:crypto';
import t from 'tap';
import { startTestHub, waitUntil } from '../fixtures/test-hub.js';

t.test(
  'duplicate events are acknowledged but dispatched once; a gap requests Inventory',
  async (t) => {
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const kiosk = await hub.connectKiosk(creds);
    await kiosk.boot();
    const seen: number[] = [];
    hub.server.hub.onEvent('DoorChanged', async (ev) => {
      seen.push(ev.seq);
    });
    const a = await kiosk.sendEvent('DoorChanged', { open: true });
    await kiosk.sendEvent('DoorChanged', { open: true }, { seq: a.seq, eventId: a.eventId });
    t.same(seen, [1], 'duplicate dispatched once');
    t.equal(kiosk.commands.length, 0, 'no inventory request without a gap');

    await kiosk.sendEvent('DoorChanged', { open: false }, { seq: 5 });
    const trig = await kiosk.waitForCommand((c) => c.action === 'TriggerMessage');
    t.equal(trig.payload.message, 'Inventory');
    t.same(seen, [1, 5], 'gapped event still recorded and dispatched');
    await kiosk.sendEvent('DoorChanged', { open: true });
    t.equal(
      kiosk.commands.filter((c) => c.action === 'TriggerMessage').length,
      1,
      'in-order event after gap: no new request',
    );

    const log = await hub.api('GET', '/api/operator/kiosks/k1/events');
    t.same(
      log.body.events.map((e: { seq: number }) => e.seq),
      [1, 5, 6],
    );
    const metrics = (await hub.api('GET', '/metrics')).body as string;
    t.match(metrics, /disk_kiosk_hub_events_received_total 3\n/);
    t.match(metrics, /disk_kiosk_hub_connected_kiosks 1\n/);
  },
);

t.test(
  'handler writes commit with the event; a failing handler rolls back and the event is re-sent',
  async (t) => {
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const kiosk = await hub.connectKiosk(creds);
    await kiosk.boot();
    const h = hub.server.hub;
    let fail = true;
    const wipe = await h.sendCommand(
      'k1',
      'WipeDisk',
      { slot: 1, mode: 'quick' },
      new Date(Date.now() + 60_000),
    );
    await h.waitFor(wipe.id, { timeoutMs: 5000 });
    // The hub settles the WipeDisk in the event's transaction; this domain handler runs after.
    h.onEvent('WipeCompleted', async () => {
      if (fail) throw new Error('domain failure');
    });
    const eventId = randomUUID();
    const data = { commandId: wipe.id, slot: 1, diskId: 'disk-1', mode: 'quick' as const };
    await t.rejects(kiosk.sendEvent('WipeCompleted', data, { seq: 1, eventId }), {
      code: 'ECALLERROR',
    });
    t.equal((await h.commands.get(wipe.id))?.state, 'accepted', 'handler write rolled back');
    const empty = await hub.api('GET', '/api/operator/kiosks/k1/events');
    t.equal(empty.body.events.length, 0, 'event row rolled back too');
    fail = false;
    await kiosk.sendEvent('WipeCompleted', data, { seq: 1, eventId });
    const done = await h.waitFor(wipe.id, { until: ['completed'], timeoutMs: 2000 });
    t.same(done.result, { slot: 1, diskId: 'disk-1', mode: 'quick' });
    const log = await hub.api('GET', '/api/operator/kiosks/k1/events');
    t.equal(log.body.events.length, 1);
  },
);

t.test('Inventory is stored per slot; Heartbeat answers server time', async (t) => {
  const hub = await startTestHub(t);
  const creds = await hub.enrolKiosk('k1');
  const kiosk = await hub.connectKiosk(creds);
  await kiosk.boot({ slotCount: 2 });
  const hb = await kiosk.heartbeat();
  t.ok(Math.abs(Date.parse(hb.currentTime) - Date.now()) < 5000);
  await kiosk.inventory([
    { slot: 1, state: 'ready', diskId: 'd1', writeProtect: true },
    { slot: 2, state: 'empty', writeProtect: false },
  ]);
  const list = await hub.api('GET', '/api/operator/kiosks');
  const k = list.body.kiosks[0];
  t.equal(k.status, 'online');
  t.equal(k.slotCount, 2);
  t.same(
    k.slots.map((s: { slot: number; state: string; diskId?: string }) => [
      s.slot,
      s.state,
      s.diskId,
    ]),
    [
      [1, 'ready', 'd1'],
      [2, 'empty', undefined],
    ],
  );
  await kiosk.close();
  await waitUntil(
    'offline',
    async () => (await hub.api('GET', '/api/operator/kiosks/k1')).body.kiosk.status === 'offline',
  );
});
