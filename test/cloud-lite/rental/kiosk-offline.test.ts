// No money for a kiosk that cannot serve. A reservation at a kiosk whose
// kioskd was dead took 2 EUR and showed "preparing" with no end. Orders and reservations at
// a kiosk that is offline, or whose last heartbeat is older than 3 intervals, are refused
// with 409 KIOSK_OFFLINE before any authorisation, and the session answer says so.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { loadedSlot } from './helpers/loaded-slot.js';
import { type RentalHub, readySlot, startRentalHub, waitFor } from './helpers/rental-hub.js';

const body = { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1 };

async function tryBoth(hub: RentalHub, token: string) {
  const order = await hub.api('POST', '/api/orders', { ...body, card: { useSaved: true } }, token, {
    'idempotency-key': randomUUID(),
  });
  const reservation = await hub.api(
    'POST',
    '/api/reservations',
    { ...body, card: { useSaved: true } },
    token,
    { 'idempotency-key': randomUUID() },
  );
  return { order, reservation };
}

const authorisations = async (hub: RentalHub) =>
  (await hub.sandbox.ledger()).filter((e) => e.op === 'authorise' && e.amountMinor === 200);

t.test('a disconnected kiosk: orders and reservations 409 KIOSK_OFFLINE, no money', async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', {
    slots: [readySlot(1, 'd1'), loadedSlot(2, 'd2'), loadedSlot(3, 'd3')],
  });
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  const before = (await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token)).body;
  t.equal(before.kiosk.online, true);
  t.equal(before.canRent, true);

  await k.terminate(); // kioskd killed: the socket drops
  await waitFor('the hub to see k1 gone', async () => !hub.server.hub.isConnected('k1'));
  const { order, reservation } = await tryBoth(hub, me.token);
  t.equal(order.status, 409);
  t.equal(order.body.error.code, 'KIOSK_OFFLINE');
  t.equal(reservation.status, 409, 'a reservation is refused too');
  t.equal(reservation.body.error.code, 'KIOSK_OFFLINE');
  t.same(await authorisations(hub), [], 'nothing was authorised');
  const rsv = (await hub.api('GET', '/api/me/reservations', undefined, me.token)).body;
  t.same(rsv, [], 'no reservation was created');

  const s = (await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token)).body;
  t.equal(s.kiosk.online, false, 'the session says the kiosk is offline');
  t.equal(s.canRent, false);
  t.ok(s.reasons.includes('KIOSK_OFFLINE'), 'and names the reason');
  const near = (await hub.api('GET', '/api/kiosks')).body;
  t.equal(near[0].online, false, 'the nearby list too');
  const me2 = (await hub.api('GET', '/api/me', undefined, me.token)).body;
  t.notOk(me2.reasons.includes('KIOSK_OFFLINE'), "the account's own standing is unaffected");

  await hub.reconnect('k1');
  const back = await tryBoth(hub, me.token);
  t.equal(back.order.status, 201, 'back online: the order is taken');
});

t.test('a kiosk connected but silent for 3 heartbeat intervals cannot serve', async (t) => {
  const hub = await startRentalHub(t, { config: { heartbeatIntervalSeconds: 1 } });
  await hub.seedCatalog();
  const k = await hub.kiosk('k1');
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  // The test kiosk sends no Heartbeat; its link stays open (it answers pings).
  const s = await waitFor(
    'the session to call k1 offline',
    async () => {
      const r = (await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token)).body;
      return r.kiosk.online === false ? r : undefined;
    },
    15_000,
  );
  t.ok(hub.server.hub.isConnected('k1'), 'the socket is still open');
  t.ok(s.reasons.includes('KIOSK_OFFLINE'));
  const { order, reservation } = await tryBoth(hub, me.token);
  t.equal(order.body.error?.code, 'KIOSK_OFFLINE');
  t.equal(reservation.body.error?.code, 'KIOSK_OFFLINE');
  t.same(await authorisations(hub), [], 'nothing was authorised');

  await k.heartbeat();
  const fresh = await hub.api(
    'POST',
    '/api/orders',
    { ...body, card: { useSaved: true } },
    me.token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(fresh.status, 201, 'a heartbeat makes it serve again');
});

t.test(
  'a kiosk connected without an accepted Boot cannot serve (it gets no commands)',
  async (t) => {
    const hub = await startRentalHub(t);
    await hub.seedCatalog();
    const k = await hub.kiosk('k1');
    const me = await hub.renter();
    t.equal((await hub.deposit(me.token)).status, 200);
    t.equal((await k.boot({ kioskId: 'someone-else' })).status, 'Rejected');
    t.ok(hub.server.hub.isConnected('k1'), 'the socket is still open');
    const s = (await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token)).body;
    t.equal(s.kiosk.online, false, 'the session says the kiosk is offline');
    const { order, reservation } = await tryBoth(hub, me.token);
    t.equal(order.body.error?.code, 'KIOSK_OFFLINE');
    t.equal(reservation.body.error?.code, 'KIOSK_OFFLINE');
    t.same(await authorisations(hub), [], 'nothing was authorised');

    t.equal((await k.boot()).status, 'Accepted');
    const again = await tryBoth(hub, me.token);
    t.equal(again.order.status, 201, 'booted again: the order is taken');
  },
);
