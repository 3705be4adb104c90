// Pickup codes at the hub (issue 24, docs/pickup-codes.md): the renter's code, the kiosk's
// ArmPickupCode, and settlement of a pickup the kiosk honoured while it was offline.
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import {
  type ArmPickupCodeRequest,
  scryptPickupCode,
  verifyCommand,
} from '../../../../protocol/index.js';
import type { HubTestKiosk } from '../../../helpers/hub-test-kiosk.js';
import { loadedSlot } from '../helpers/loaded-slot.js';
import { CARD, type RentalHub, startRentalHub, waitFor } from '../helpers/rental-hub.js';

type Tap = Test;

/** A renter's reservation at kiosk `k1`, prepared and ready; the kiosk's ArmPickupCode. */
async function readyReservation(t: Tap) {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', { slots: [loadedSlot(3, 'k1-d9')] });
  const me = await hub.renter();
  await hub.deposit(me.token);
  const res = await hub.api(
    'POST',
    '/api/reservations',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: true, days: 2, card: CARD },
    me.token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(res.status, 201, JSON.stringify(res.body));
  const id: string = res.body.reservation.id;
  const prep = await k.waitForCommand((c) => c.action === 'PrepareDisk');
  await k.sendEvent('PrepareCompleted', {
    commandId: prep.payload.commandId as string,
    reservationId: id,
    slot: 3,
    diskId: 'k1-d9',
    contentId: 'c1',
    contentVersion: 'v1',
    holdUntil: new Date(Date.now() + 3600_000).toISOString(),
  });
  const arm = (await k.waitForCommand((c) => c.action === 'ArmPickupCode'))
    .payload as unknown as ArmPickupCodeRequest;
  const r = await hub.waitReservation(
    me.token,
    id,
    (x: { state: string; pickupCode?: string }) => x.state === 'ready' && !!x.pickupCode,
  );
  return { hub, k, me, id, arm, r };
}

const reservationPayment = async (hub: RentalHub, id: string) => {
  const paymentId = await hub.server.store.transaction(
    async (tx) => (await tx.reservations.get(id))!.paymentId!,
  );
  return (await hub.sandbox.payments()).find((p) => p.reference === paymentId);
};

/** Until the hub sees kiosk k1 as offline. */
const offline = (hub: RentalHub) =>
  waitFor('kiosk offline', async () => {
    const kiosk = await hub.server.store.transaction((tx) => tx.kiosks.get('k1'));
    return !hub.server.hub.canServe(kiosk!);
  });

/**
 * The kiosk's outbox after an offline pickup, sent from `seq` on (its seq continues), stamped
 * `at` by the kiosk's clock (default now).
 */
async function takenOffline(k: HubTestKiosk, id: string, seq: number, at?: string) {
  const commandId = randomUUID();
  const accepted = await k.sendEvent(
    'PickupCodeAccepted',
    { commandId, armCommandId: randomUUID(), reservationId: id, slot: 3, diskId: 'k1-d9' },
    { seq, ...(at ? { at } : {}) },
  );
  const completed = await k.sendEvent(
    'DispenseCompleted',
    { commandId, reservationId: id, slot: 3, diskId: 'k1-d9', outcome: 'taken' },
    { seq: seq + 1, ...(at ? { at } : {}) },
  );
  return { commandId, accepted, completed };
}

t.test(
  'ready: the renter sees an 8-digit code; the kiosk gets only its bound hash, signed',
  async (t) => {
    const { hub, id, arm, r } = await readyReservation(t);
    t.match(r.pickupCode, /^[0-9]{8}$/);
    t.equal(arm.reservationId, id);
    t.equal(arm.slot, 3);
    t.equal(arm.diskId, 'k1-d9');
    t.equal(arm.codeExpiresAt, r.holdUntil, 'the code expires with the hold');
    t.notOk(JSON.stringify(arm).includes(r.pickupCode), 'the code itself is not sent');
    const pub = hub.server.signingKey.publicKeyPem;
    t.ok(verifyCommand(pub, 'k1', 'ArmPickupCode', arm).ok, 'signed by the hub for k1');
    const hashOf = (code: string, kioskId = 'k1') =>
      scryptPickupCode(
        code,
        Buffer.from(arm.codeHash.salt, 'base64url'),
        { kioskId, slot: arm.slot, reservationId: id, codeExpiresAt: arm.codeExpiresAt },
        arm.codeHash,
      ).then((b) => b.toString('base64url'));
    t.equal(await hashOf(r.pickupCode), arm.codeHash.hash, "the renter's code matches the hash");
    t.not(await hashOf(r.pickupCode, 'k2'), arm.codeHash.hash, 'bound to the kiosk');
    const other = await hub.renter();
    const seen = await hub.api('GET', `/api/reservations/${id}`, undefined, other.token);
    t.equal(seen.status, 404, 'another renter sees nothing of it');
    const stored = JSON.stringify(
      await hub.server.store.transaction(async (tx) => tx.reservations.get(id)),
    );
    t.notOk(stored.includes(r.pickupCode), 'the code is not in the database');
  },
);

t.test(
  'offline pickup: no cancel, no expiry while away; captured once when the link returns',
  async (t) => {
    const { hub, k, me, id, r: r0 } = await readyReservation(t);
    await k.terminate(); // the kiosk's link drops
    await waitFor('kiosk offline', async () => {
      const kiosk = await hub.server.store.transaction((tx) => tx.kiosks.get('k1'));
      return !hub.server.hub.canServe(kiosk!);
    });
    const cancel = await hub.api('POST', `/api/reservations/${id}/cancel`, undefined, me.token);
    t.equal(cancel.status, 409);
    t.equal(cancel.body.error.code, 'PICKUP_CODE_OFFLINE');

    hub.clock.advance(Date.parse(r0.holdUntil) - hub.clock.now().getTime() + 3 * 60_000); // the hold ends while the kiosk is away
    await hub.server.rental.reservationOutcomes.expireDue();
    let r = (await hub.api('GET', `/api/reservations/${id}`, undefined, me.token)).body.reservation;
    t.equal(r.state, 'ready', 'not expired: the kiosk may have honoured the code');
    t.same(r.fees, [], 'no no-show fee');
    t.equal((await reservationPayment(hub, id))?.state, 'authorised');

    // The link returns with the kiosk's events: the disk was taken 10 min before the hold end.
    const back = await hub.reconnect('k1');
    const takenAt = new Date(Date.parse(r0.holdUntil) - 10 * 60_000).toISOString();
    const sent = await takenOffline(back, id, 2, takenAt);
    r = await hub.waitReservation(me.token, id, (x) => x.state === 'picked_up');
    t.ok(r.orderId, 'the pickup order opened');
    const o = await hub.waitOrder(me.token, r.orderId, (x) => x.state === 'completed');
    t.ok(o.rentalId, 'rental open');
    const rental = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body.find(
      (x: { id: string }) => x.id === o.rentalId,
    );
    t.equal(rental.startedAt, takenAt, 'the rental starts when the kiosk saw the disk taken');
    t.equal(
      rental.dueAt,
      new Date(Date.parse(takenAt) + 2 * 86_400_000).toISOString(),
      'due 2 days after that, not after the link returned',
    );
    t.ok(
      o.steps.some((s: { takenAt?: string }) => s.takenAt === takenAt),
      "the order's step says when",
    );
    const pay = await waitFor('capture', async () => {
      const p = await reservationPayment(hub, id);
      return p?.state === 'captured' ? p : undefined;
    });
    t.equal(pay.captures, 1);
    t.equal(pay.capturedMinor, 400, 'the whole rental, no fee');

    // The same events again (a resend), and a second DispenseCompleted for the same pickup.
    await back.sendEvent(
      'DispenseCompleted',
      { commandId: sent.commandId, reservationId: id, slot: 3, diskId: 'k1-d9', outcome: 'taken' },
      { eventId: sent.completed.eventId, seq: sent.completed.seq },
    );
    await back.sendEvent('DispenseCompleted', {
      commandId: sent.commandId,
      reservationId: id,
      slot: 3,
      diskId: 'k1-d9',
      outcome: 'taken',
    });
    await back.sendEvent('PickupCodeAccepted', {
      commandId: sent.commandId,
      armCommandId: randomUUID(),
      reservationId: id,
      slot: 3,
      diskId: 'k1-d9',
    });
    const after = await reservationPayment(hub, id);
    t.equal(after?.captures, 1, 'captured exactly once');
    const orders = await hub.server.store.transaction((tx) => tx.orders.listByUser(me.userId, 50));
    t.equal(orders.filter((x) => x.reservationId === id).length, 1, 'one pickup order');
    const ledger = await hub.sandbox.ledger();
    t.equal(
      ledger.filter((e) => e.op === 'capture' && e.amountMinor === 400).length,
      1,
      'one capture of the rental in the provider',
    );
  },
);

t.test('a hold that ended offline: the kiosk reports it expired, then the fee', async (t) => {
  const { hub, k, me, id, r: r0 } = await readyReservation(t);
  await k.terminate();
  await offline(hub);
  hub.clock.advance(Date.parse(r0.holdUntil) - hub.clock.now().getTime() + 3 * 60_000);
  await hub.server.rental.reservationOutcomes.expireDue();
  t.equal(
    (await hub.api('GET', `/api/reservations/${id}`, undefined, me.token)).body.reservation.state,
    'ready',
  );
  const back = await hub.reconnect('k1');
  await back.sendEvent('ReservationExpired', { reservationId: id, slot: 3 }, { seq: 2 });
  const r = await hub.waitReservation(me.token, id, (x) => x.state === 'expired');
  t.equal(r.fees.length, 1, 'the no-show fee, once the kiosk said it was not picked up');
});

t.test(
  'online: the hub learns at once; an online kiosk past the grace expires as before',
  async (t) => {
    const { hub, k, me, id } = await readyReservation(t);
    await k.sendEvent('PickupCodeAccepted', {
      commandId: randomUUID(),
      armCommandId: randomUUID(),
      reservationId: id,
      slot: 3,
      diskId: 'k1-d9',
    });
    const r = await hub.waitReservation(
      me.token,
      id,
      (x: { state: string; orderId?: string }) => !!x.orderId,
    );
    const o = (await hub.api('GET', `/api/orders/${r.orderId}`, undefined, me.token)).body.order;
    t.equal(o.state, 'dispensing', 'the pickup order is dispensing before DispenseCompleted');
    const cancel = await hub.api('POST', `/api/reservations/${id}/cancel`, undefined, me.token);
    t.equal(cancel.body.error?.code, 'PICKUP_IN_PROGRESS');

    const second = await readyReservation(t);
    // Past the hold and the grace, the kiosk online (it never reported its own expiry).
    second.hub.clock.advance(
      Date.parse(second.r.holdUntil) - second.hub.clock.now().getTime() + 3 * 60_000,
    );
    await second.hub.server.rental.reservationOutcomes.expireDue();
    const ended = await second.hub.waitReservation(
      second.me.token,
      second.id,
      (x) => x.state === 'expired',
    );
    t.equal(ended.fees.length, 1);
  },
);

t.test('a kiosk without a keypad rejects ArmPickupCode: no code is shown', async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', { slots: [loadedSlot(3, 'k1-d9')] });
  k.onCommand = (c) =>
    c.action === 'ArmPickupCode'
      ? { status: 'Rejected', reason: 'this kiosk has no pickup-code keypad' }
      : { status: 'Accepted' };
  const me = await hub.renter();
  await hub.deposit(me.token);
  const res = await hub.api(
    'POST',
    '/api/reservations',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: true, days: 2, card: CARD },
    me.token,
    { 'idempotency-key': randomUUID() },
  );
  const id = res.body.reservation.id;
  const prep = await k.waitForCommand((c) => c.action === 'PrepareDisk');
  await k.sendEvent('PrepareCompleted', {
    commandId: prep.payload.commandId as string,
    reservationId: id,
    slot: 3,
    diskId: 'k1-d9',
    contentId: 'c1',
    contentVersion: 'v1',
    holdUntil: new Date(Date.now() + 3600_000).toISOString(),
  });
  await k.waitForCommand((c) => c.action === 'ArmPickupCode');
  await waitFor('arm rejected', async () => {
    const r = await hub.server.store.transaction((tx) => tx.reservations.get(id));
    return r?.state === 'ready' && r.pickupCodeCommandId === null;
  });
  const r = (await hub.api('GET', `/api/reservations/${id}`, undefined, me.token)).body.reservation;
  t.equal(r.pickupCode, undefined);
});

t.test("the kiosk's time of a take is kept only when it is plausible", async (t) => {
  const { plausibleKioskTime } = await import('../../../../cloud-lite/rental/orders/orders.js');
  const now = new Date('2026-12-06T12:00:00.000Z');
  const created = '2026-12-06T08:00:00.000Z';
  t.equal(plausibleKioskTime('2026-12-06T09:30:00Z', created, now), '2026-12-06T09:30:00.000Z');
  t.equal(plausibleKioskTime(undefined, created, now), undefined, 'none sent');
  t.equal(
    plausibleKioskTime('2023-12-06T09:30:00Z', created, now),
    undefined,
    'before the order existed: a kiosk clock gone wrong (a Pi without its hub time)',
  );
  t.equal(plausibleKioskTime('2026-12-06T12:00:01Z', created, now), undefined, 'in the future');
});
