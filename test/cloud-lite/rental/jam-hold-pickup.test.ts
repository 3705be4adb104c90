// Jam hold for reservation pickups: a jammed pickup keeps the reservation (ready, with its
// order) and its payment authorised for the hold; pulled -> picked up and captured once; the
// hold ending -> order and reservation failed, payment voided, never a no-show fee.
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import type { HubTestKiosk } from '../../helpers/hub-test-kiosk.js';
import { loadedSlot } from './helpers/loaded-slot.js';
import { prepareReady, type RentalHub, startRentalHub, waitFor } from './helpers/rental-hub.js';

const JAM_HOLD_S = 600;
const RESERVATION_HOLD_S = 300; // shorter than the jam hold: the reservation's own hold passes inside it
const SLOT = 3;
const DISK = 'k1-d9';

async function setup(t: Test) {
  const hub = await startRentalHub(t, {
    rental: {
      jamHoldSeconds: JAM_HOLD_S,
      holdWindowSeconds: RESERVATION_HOLD_S,
      noShowFeeMinor: 150,
    },
  });
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', { slots: [loadedSlot(SLOT, DISK)] });
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  return { hub, k, me };
}

/** Reserves, prepares, picks up and answers the Dispense `jammed` (slot to fault first, as the kiosk does). */
async function jammedPickup(hub: RentalHub, k: HubTestKiosk, token: string) {
  const res = await hub.api(
    'POST',
    '/api/reservations',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 2, card: { useSaved: true } },
    token,
    { 'idempotency-key': randomUUID() },
  );
  if (res.status !== 201) throw new Error(`reserve: ${JSON.stringify(res.body)}`);
  const rid = res.body.reservation.id as string;
  await prepareReady(hub, k, token, rid, {
    slot: SLOT,
    diskId: DISK,
    holdUntil: new Date(Date.now() + RESERVATION_HOLD_S * 1000),
  });
  const pick = await hub.api('POST', `/api/reservations/${rid}/pickup`, undefined, token);
  if (pick.status !== 200) throw new Error(`pickup: ${JSON.stringify(pick.body)}`);
  const orderId = pick.body.order.id as string;
  const disp = await k.waitForCommand(
    (c) => c.action === 'Dispense' && c.payload.reservationId === rid,
  );
  await k.sendEvent('SlotStateChanged', {
    slot: SLOT,
    from: 'dispensing',
    to: 'fault',
    snapshot: {
      slot: SLOT,
      state: 'fault',
      diskId: DISK,
      writeProtect: true,
      version: 1000,
      fault: { code: 'EJAM', message: 'eject failed: EJAM' },
    },
  });
  await k.sendEvent('DispenseCompleted', {
    commandId: disp.payload.commandId as string,
    orderId,
    reservationId: rid,
    slot: SLOT,
    diskId: DISK,
    outcome: 'jammed',
    reason: 'eject failed: EJAM',
  });
  const held = await hub.waitOrder(token, orderId, (x) => x.state === 'jam_hold');
  return { rid, orderId, held };
}

/** The sandbox payment of reservation `rid`. */
async function payment(hub: RentalHub, rid: string) {
  const ref = await hub.server.store.transaction(
    async (tx) => (await tx.reservations.get(rid))!.paymentId!,
  );
  const p = (await hub.sandbox.payments()).find((x) => x.reference === ref);
  if (!p) throw new Error(`no sandbox payment for ${rid}`);
  return p;
}

const reservation = async (hub: RentalHub, token: string, rid: string) =>
  (await hub.api('GET', `/api/reservations/${rid}`, undefined, token)).body.reservation;

const missing = async (hub: RentalHub) =>
  (await hub.admin('GET', '/api/operator/missing-disks')).body.missingDisks as unknown[];

/** Everything that must hold while the pickup is in its jam hold. */
async function stillHeld(
  t: Test,
  hub: RentalHub,
  token: string,
  x: { rid: string; orderId: string },
) {
  const r = await reservation(hub, token, x.rid);
  t.equal(r.state, 'ready', 'the reservation stays ready during the hold');
  t.equal(r.orderId, x.orderId, 'with its pickup order');
  t.same(r.fees, [], 'no no-show fee');
  const o = (await hub.api('GET', `/api/orders/${x.orderId}`, undefined, token)).body.order;
  t.equal(o.state, 'jam_hold');
  t.equal((await payment(hub, x.rid)).state, 'authorised', 'the payment stays authorised');
}

t.test(
  'pickup jammed -> held past the reservation hold; pulled -> picked up, captured once, rental open',
  async (t) => {
    const { hub, k, me } = await setup(t);
    const x = await jammedPickup(hub, k, me.token);
    t.match(x.held.steps.at(-1).message, /pulled out of slot 3 within 10 min.*reservation ends/);
    await stillHeld(t, hub, me.token, x);

    // The reservation's own hold window passes inside the jam hold: no expiry, no fee.
    hub.clock.advance((RESERVATION_HOLD_S + 1) * 1000);
    await hub.server.rental.reconciliation.runOnce();
    await hub.server.rental.jamHolds.sweep();
    await stillHeld(t, hub, me.token, x);

    // Pickup pressed again: the held order, never a second Dispense.
    const again = await hub.api('POST', `/api/reservations/${x.rid}/pickup`, undefined, me.token);
    t.equal(again.status, 200, JSON.stringify(again.body));
    t.equal(again.body.order.id, x.orderId, 'the same order');
    t.equal(k.commands.filter((c) => c.action === 'Dispense').length, 1, 'one Dispense only');

    await k.sendEvent('DiskRemoved', {
      slot: SLOT,
      diskId: DISK,
      state: 'fault',
      reason: 'pulled from a jammed slot',
      serviceDoorOpen: false,
    });
    const done = await hub.waitOrder(me.token, x.orderId, (o) => o.state === 'completed');
    t.ok(done.rentalId, 'rental open');
    t.equal((await reservation(hub, me.token, x.rid)).state, 'picked_up');
    const p = await waitFor('capture', async () => {
      const q = await payment(hub, x.rid);
      return q.state === 'captured' ? q : undefined;
    });
    t.equal(p.captures, 1, 'captured once');
    t.equal(p.capturedMinor, 400, 'the rental price, not a fee');
    const rentals = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body;
    t.match(rentals, [{ id: done.rentalId, diskId: DISK, state: 'open' }]);
    t.same(await missing(hub), [], 'nothing flagged missing');
  },
);

t.test(
  'pickup jammed; the kiosk ends its reservation during the hold -> ignored; hold expiry -> failed and voided, no fee',
  async (t) => {
    const { hub, k, me } = await setup(t);
    const x = await jammedPickup(hub, k, me.token);
    // A technician's cancel and the kiosk's own hold timer: the hold decides, not these.
    await k.sendEvent('ReservationCancelled', {
      reservationId: x.rid,
      slot: SLOT,
      reason: 'cancelled by a technician',
    });
    await k.sendEvent('ReservationExpired', { reservationId: x.rid, slot: SLOT });
    await stillHeld(t, hub, me.token, x);

    hub.clock.advance((JAM_HOLD_S + 1) * 1000);
    await hub.server.rental.jamHolds.sweep();
    const f = await hub.waitOrder(me.token, x.orderId, (o) => o.state === 'failed');
    t.equal(f.failureReason, 'DISPENSE_JAMMED');
    t.match(f.steps.at(-1).message, /not pulled out within the jam-hold window; reservation ended/);
    const r = await reservation(hub, me.token, x.rid);
    t.equal(r.state, 'failed');
    t.equal(r.failureReason, 'DISPENSE_JAMMED');
    t.same(r.fees, [], 'no no-show fee');
    await waitFor('void', async () => (await payment(hub, x.rid)).state === 'voided');
    await hub.server.rental.reconciliation.runOnce();
    const p = await payment(hub, x.rid);
    t.equal(p.state, 'voided', 'reconciliation takes no fee afterwards');
    t.equal(p.captures, 0);
    t.equal(p.capturedMinor, 0);
    const cancel = await k.waitForCommand(
      (c) => c.action === 'CancelReservation' && c.payload.reservationId === x.rid,
    );
    t.ok(cancel, 'the kiosk is told to end its copy of the reservation');
  },
);

t.test('pickup jammed; the slot recovers with the disk inside -> failed and voided', async (t) => {
  const { hub, k, me } = await setup(t);
  const x = await jammedPickup(hub, k, me.token);
  await k.sendEvent('SlotStateChanged', { slot: SLOT, from: 'fault', to: 'loaded' });
  const f = await hub.waitOrder(me.token, x.orderId, (o) => o.state === 'failed');
  t.match(f.steps.at(-1).message, /recovered \(loaded\) with the disk inside/);
  t.equal((await reservation(hub, me.token, x.rid)).state, 'failed');
  await waitFor('void', async () => (await payment(hub, x.rid)).state === 'voided');
  t.equal((await payment(hub, x.rid)).captures, 0);
  // Pulled later: not this renter's rental any more, flagged missing instead.
  await k.sendEvent('DiskRemoved', { slot: SLOT, diskId: DISK, state: 'loaded', reason: 'gone' });
  await waitFor('missing flag', async () => (await missing(hub)).length === 1);
  t.same((await hub.api('GET', '/api/me/rentals', undefined, me.token)).body, []);
});
