// Per-renter limits (the permission check's "no unreturned disk"): `rental.maxOpenRentals`
// (default 1: rentals out, orders in flight and active reservations together) and
// `rental.maxActiveReservations` (default 1) refuse more, also when sent in parallel; the
// session answer lists the reason.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { HubTestKiosk } from '../../helpers/hub-test-kiosk.js';
import { loadedSlot } from './helpers/loaded-slot.js';
import { prepareReady, type RentalHub, readySlot, startRentalHub } from './helpers/rental-hub.js';

const body = {
  kioskId: 'k1',
  diskTypeId: 't64',
  writeProtect: false,
  days: 1,
  card: { useSaved: true },
};
const SLOTS = [readySlot(1, 'd1'), readySlot(2, 'd2'), loadedSlot(3, 'd3'), loadedSlot(4, 'd4')];

const post = (hub: RentalHub, token: string, url: string) =>
  hub.api('POST', url, body, token, { 'idempotency-key': randomUUID() });
const session = async (hub: RentalHub, token: string) =>
  (await hub.api('POST', '/api/kiosks/k1/session', undefined, token)).body;

async function takeDisk(hub: RentalHub, k: HubTestKiosk, token: string, orderId: string) {
  const cmd = await k.waitForCommand(
    (c) => c.action === 'Dispense' && c.payload.orderId === orderId,
  );
  await k.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId as string,
    orderId,
    slot: cmd.payload.slot as number,
    diskId: cmd.payload.diskId as string,
    outcome: 'taken',
  });
  await hub.waitOrder(token, orderId, (o) => o.state === 'completed');
  return cmd.payload.diskId as string;
}

t.test('defaults: one disk at a time, in flight or out; back after the return', async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', { slots: SLOTS });
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  const first = await post(hub, me.token, '/api/orders');
  t.equal(first.status, 201);

  const inFlight = await post(hub, me.token, '/api/orders');
  t.equal(inFlight.status, 403, 'a second order while the first is in flight');
  t.equal(inFlight.body.error.code, 'NOT_ALLOWED');
  t.same(inFlight.body.error.reasons, ['OPEN_RENTAL_LIMIT']);
  t.equal(inFlight.body.error.maxOpenRentals, 1);
  const reserve = await post(hub, me.token, '/api/reservations');
  t.equal(reserve.status, 403, 'and a reservation');
  t.same(reserve.body.error.reasons, ['OPEN_RENTAL_LIMIT']);
  let s = await session(hub, me.token);
  t.equal(s.canRent, false);
  t.same(s.reasons, ['OPEN_RENTAL_LIMIT'], 'the session lists the reason');
  t.equal(s.canReserve, false);
  t.same(s.reserveReasons, ['OPEN_RENTAL_LIMIT']);

  const disk = await takeDisk(hub, k, me.token, first.body.order.id);
  const out = await post(hub, me.token, '/api/orders');
  t.same(out.body.error?.reasons, ['OPEN_RENTAL_LIMIT'], 'refused while the disk is out');
  t.same(
    (await hub.api('GET', '/api/me', undefined, me.token)).body.reasons,
    ['OPEN_RENTAL_LIMIT'],
    '/api/me says so too',
  );

  await k.sendEvent('DiskReturned', {
    slot: 1,
    diskId: disk,
    identityValid: true,
    writeProtected: false,
  });
  s = await session(hub, me.token);
  t.equal(s.canRent, true, 'returned: may rent again');
  t.equal((await post(hub, me.token, '/api/orders')).status, 201);
  const authorisations = (await hub.sandbox.ledger()).filter(
    (e) => e.op === 'authorise' && e.amountMinor === 200,
  );
  t.equal(authorisations.length, 2, 'only the orders taken were authorised');
});

t.test('parallel orders and reservations: exactly the limit gets through', async (t) => {
  const hub = await startRentalHub(t, { rental: { maxOpenRentals: 2 } });
  await hub.seedCatalog();
  await hub.kiosk('k1', { slots: SLOTS });
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  const all = await Promise.all([
    ...Array.from({ length: 5 }, () => post(hub, me.token, '/api/orders')),
    ...Array.from({ length: 3 }, () => post(hub, me.token, '/api/reservations')),
  ]);
  const ok = all.filter((r) => r.status === 201);
  const refused = all.filter((r) => r.status === 403);
  t.equal(ok.length, 2, 'two of eight parallel requests accepted');
  t.equal(refused.length, 6);
  for (const r of refused) t.ok(r.body.error.reasons.includes('OPEN_RENTAL_LIMIT'));
  const auths = (await hub.sandbox.ledger()).filter(
    (e) => e.op === 'authorise' && e.amountMinor === 200,
  );
  t.equal(auths.length, 2, 'two authorisations, none for a refused request');
});

t.test('maxActiveReservations; a ready reservation counts as a disk on the way', async (t) => {
  const hub = await startRentalHub(t, { rental: { maxOpenRentals: 3 } });
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', { slots: SLOTS });
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  const r1 = await post(hub, me.token, '/api/reservations');
  t.equal(r1.status, 201);
  const r2 = await post(hub, me.token, '/api/reservations');
  t.equal(r2.status, 403, 'a second reservation');
  t.same(r2.body.error.reasons, ['RESERVATION_LIMIT']);
  t.equal(r2.body.error.maxActiveReservations, 1);
  const s = await session(hub, me.token);
  t.equal(s.canRent, true, 'renting is still allowed');
  t.equal(s.canReserve, false);
  t.same(s.reserveReasons, ['RESERVATION_LIMIT']);
  t.equal((await post(hub, me.token, '/api/orders')).status, 201, 'an order is');

  // Prepared and ready: with the order in flight, the renter is at 2 of 3.
  const rid = r1.body.reservation.id as string;
  await prepareReady(hub, k, me.token, rid, { slot: 3, diskId: 'd3' });
  t.equal((await post(hub, me.token, '/api/orders')).status, 201, 'a third disk: at the limit');
  const fourth = await post(hub, me.token, '/api/orders');
  t.same(fourth.body.error?.reasons, ['OPEN_RENTAL_LIMIT'], 'the ready reservation counts');
  const pickup = await hub.api('POST', `/api/reservations/${rid}/pickup`, undefined, me.token);
  t.equal(pickup.status, 200, 'its pickup is never refused by the limit');
  t.same(
    (await post(hub, me.token, '/api/orders')).body.error?.reasons,
    ['OPEN_RENTAL_LIMIT'],
    'the pickup in flight counts once',
  );
  const cancelled = await hub.api('POST', `/api/reservations/${rid}/cancel`, undefined, me.token);
  t.equal(cancelled.body.error?.code, 'PICKUP_IN_PROGRESS');
});

t.test('maxActiveReservations 0 turns reservations off', async (t) => {
  const hub = await startRentalHub(t, { rental: { maxActiveReservations: 0 } });
  await hub.seedCatalog();
  await hub.kiosk('k1', { slots: SLOTS });
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  const r = await post(hub, me.token, '/api/reservations');
  t.same(r.body.error?.reasons, ['RESERVATION_LIMIT']);
  t.equal((await post(hub, me.token, '/api/orders')).status, 201);
});
