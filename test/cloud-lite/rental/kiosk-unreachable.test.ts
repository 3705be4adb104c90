// A dispense in flight when the kiosk drops is told to the renter (kioskd killed after
// Dispense): the order moves to `kiosk_unreachable` (with the time its payment is released)
// within seconds instead of "Take your disk" for as long as the kiosk stays away, the API and
// the live stream show it, and the kiosk's report on reconnect settles it: taken -> captured
// once; not taken -> voided; never back -> voided.
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import type { HubTestKiosk, ReceivedCommand } from '../../helpers/hub-test-kiosk.js';
import { loadedSlot } from './helpers/loaded-slot.js';
import {
  prepareReady,
  type RentalHub,
  readySlot,
  startRentalHub,
  waitFor,
} from './helpers/rental-hub.js';

const HOLD_S = 600;

async function setup(t: Test, rental: Record<string, unknown> = {}) {
  const hub = await startRentalHub(t, {
    rental: { kioskUnreachableAfterSeconds: 1, kioskUnreachableHoldSeconds: HOLD_S, ...rental },
  });
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', {
    slots: [readySlot(1, 'd1'), readySlot(2, 'd2'), loadedSlot(3, 'd3')],
  });
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  return { hub, k, me };
}

/** Orders at k1 and waits for the kiosk to receive (and accept) the Dispense. */
async function dispensing(hub: RentalHub, k: HubTestKiosk, token: string) {
  const r = await hub.api(
    'POST',
    '/api/orders',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
    token,
    { 'idempotency-key': randomUUID() },
  );
  if (r.status !== 201) throw new Error(`order: ${JSON.stringify(r.body)}`);
  const cmd = await k.waitForCommand(
    (c) => c.action === 'Dispense' && c.payload.orderId === r.body.order.id,
  );
  await hub.waitOrder(token, r.body.order.id, (o) => o.state === 'dispensing');
  return { id: r.body.order.id as string, cmd };
}

/** The kiosk's DispenseCompleted for the Dispense `cmd`. */
function report(
  k: HubTestKiosk,
  cmd: ReceivedCommand,
  outcome: 'taken' | 'not_taken',
  reason?: string,
) {
  return k.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId as string,
    orderId: cmd.payload.orderId as string,
    slot: cmd.payload.slot as number,
    diskId: cmd.payload.diskId as string,
    outcome,
    ...(reason ? { reason } : {}),
  });
}

const orderPayments = async (hub: RentalHub) =>
  (await hub.sandbox.payments()).filter((p) => p.amountMinor === 200);

/** The order's live stream, read to its end (the order terminal). */
function follow(hub: RentalHub, token: string, id: string) {
  return fetch(`${hub.baseUrl}/api/orders/${id}/events`, {
    headers: { authorization: `Bearer ${token}` },
  }).then(async (res) =>
    [...(await res.text()).matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!).order),
  );
}

t.test('kiosk lost mid-dispense, back and reports taken: told, then captured once', async (t) => {
  const { hub, k, me } = await setup(t);
  const { id, cmd } = await dispensing(hub, k, me.token);
  const stream = follow(hub, me.token, id);
  const lostAt = Date.now();
  await k.terminate(); // kioskd SIGKILLed: the socket drops
  const told = await hub.waitOrder(me.token, id, (o) => o.state === 'kiosk_unreachable');
  const release = Date.parse(told.releaseAt);
  t.ok(
    release >= lostAt + HOLD_S * 1000 && release <= Date.now() + HOLD_S * 1000,
    `released ${HOLD_S} s after the kiosk was lost (${told.releaseAt})`,
  );
  t.match(told.steps.at(-1).message, /went offline during the dispense/);
  t.same(
    (await orderPayments(hub)).map((p) => p.state),
    ['authorised'],
    'the payment stays authorised: the renter may hold the disk',
  );
  const s = (await hub.api('GET', `/api/orders/${id}`, undefined, me.token)).body.order;
  t.equal(s.state, 'kiosk_unreachable', 'a reload shows it too');

  const back = await hub.reconnect('k1');
  await hub.waitOrder(me.token, id, (o) => o.state === 'dispensing');
  // kioskd settles the interrupted dispense by its sensor at start and reports it once.
  await report(back, cmd, 'taken', 'kioskd restarted during a dispense; the disk was gone');
  const done = await hub.waitOrder(me.token, id, (o) => o.state === 'completed');
  t.ok(done.rentalId, 'rental open');
  const p = await orderPayments(hub);
  t.same(
    p.map((x) => [x.state, x.captures]),
    [['captured', 1]],
    'captured exactly once',
  );
  const states = (await stream).map((o) => o.state);
  t.ok(states.includes('kiosk_unreachable'), `the live stream pushed it (${states.join(' > ')})`);
  t.equal(states.at(-1), 'completed');
  t.ok(
    (await stream).find((o) => o.state === 'kiosk_unreachable')?.releaseAt,
    'with its release time',
  );
});

t.test('back and reports not taken: voided, nothing charged', async (t) => {
  const { hub, k, me } = await setup(t);
  const { id, cmd } = await dispensing(hub, k, me.token);
  await k.terminate();
  await hub.waitOrder(me.token, id, (o) => o.state === 'kiosk_unreachable');
  const back = await hub.reconnect('k1');
  await report(back, cmd, 'not_taken');
  const failed = await hub.waitOrder(me.token, id, (o) => o.state === 'failed');
  t.equal(failed.failureReason, 'DISPENSE_NOT_TAKEN');
  await waitFor('the void', async () =>
    (await orderPayments(hub)).every((p) => p.state === 'voided'),
  );
  t.same(
    (await orderPayments(hub)).map((p) => p.captures),
    [0],
  );
});

t.test('never back within the hold: order failed, payment voided', async (t) => {
  const { hub, k, me } = await setup(t, { kioskUnreachableHoldSeconds: 1 });
  const { id } = await dispensing(hub, k, me.token);
  await k.terminate();
  const failed = await hub.waitOrder(me.token, id, (o) => o.state === 'failed');
  t.equal(failed.failureReason, 'KIOSK_UNREACHABLE');
  t.same(failed.steps.map((x: { state: string }) => x.state).slice(-2), [
    'kiosk_unreachable',
    'failed',
  ]);
  await waitFor('the void', async () =>
    (await orderPayments(hub)).every((p) => p.state === 'voided'),
  );
  const again = await hub.api('GET', '/api/me', undefined, me.token);
  t.equal(again.body.reasons.includes('OPEN_RENTAL_LIMIT'), false, 'the renter is free again');
});

t.test('a Dispense the kiosk never accepted: released at its deadline', async (t) => {
  const { hub, k, me } = await setup(t, { dispenseCommandTtlSeconds: 30 });
  k.onCommand = (c) => (c.action === 'Dispense' ? new Promise(() => {}) : { status: 'Accepted' });
  const r = await hub.api(
    'POST',
    '/api/orders',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
    me.token,
    { 'idempotency-key': randomUUID() },
  );
  await k.waitForCommand((c) => c.action === 'Dispense');
  await k.terminate();
  const told = await hub.waitOrder(
    me.token,
    r.body.order.id,
    (o) => o.state === 'kiosk_unreachable',
  );
  const cmds = (await hub.admin('GET', '/api/operator/kiosks/k1/commands')).body.commands;
  const d = cmds.find((c: { action: string }) => c.action === 'Dispense');
  t.equal(told.releaseAt, d.deadline, 'the release time is the command deadline');
});

t.test(
  'a reservation pickup lost with its kiosk: told; never back -> reservation ends, no fee',
  async (t) => {
    const { hub, k, me } = await setup(t, { kioskUnreachableHoldSeconds: 1 });
    const res = await hub.api(
      'POST',
      '/api/reservations',
      { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
      me.token,
      { 'idempotency-key': randomUUID() },
    );
    const rid = res.body.reservation.id as string;
    await prepareReady(hub, k, me.token, rid, { slot: 3, diskId: 'd3' });
    const pick = await hub.api('POST', `/api/reservations/${rid}/pickup`, undefined, me.token);
    t.equal(pick.status, 200);
    const oid = pick.body.order.id as string;
    await k.waitForCommand((c) => c.action === 'Dispense' && c.payload.orderId === oid);
    await k.terminate();
    await hub.waitOrder(me.token, oid, (o) => o.state === 'kiosk_unreachable');
    const again = await hub.api('POST', `/api/reservations/${rid}/pickup`, undefined, me.token);
    t.equal(again.body.order?.id, oid, 'pickup pressed again returns the same order');
    const failed = await hub.waitOrder(me.token, oid, (o) => o.state === 'failed');
    t.equal(failed.failureReason, 'KIOSK_UNREACHABLE');
    const r = await hub.waitReservation(me.token, rid, (x) => x.state === 'failed');
    t.same(r.fees, [], 'no no-show fee');
    await waitFor('the void', async () =>
      (await hub.sandbox.payments())
        .filter((p) => p.amountMinor === 200)
        .every((p) => p.state === 'voided'),
    );
  },
);
