import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import type { HubTestKiosk } from '../../helpers/hub-test-kiosk.js';
import { type RentalHub, startRentalHub, waitFor } from './helpers/rental-hub.js';

const HOLD_S = 600;

async function setup(t: Test) {
  // maxOpenRentals 2: a test may order again while the disk of its first order is out.
  const hub = await startRentalHub(t, { rental: { jamHoldSeconds: HOLD_S, maxOpenRentals: 2 } });
  await hub.seedCatalog();
  const k = await hub.kiosk('k1');
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  return { hub, k, me };
}

/** Places a walk-up order at k1 and waits for its Dispense: the order, slot and disk. */
async function placeOrder(hub: RentalHub, k: HubTestKiosk, token: string) {
  const o = (
    await hub.api(
      'POST',
      '/api/orders',
      { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
      token,
      { 'idempotency-key': randomUUID() },
    )
  ).body.order;
  const cmd = await k.waitForCommand((x) => x.action === 'Dispense' && x.payload.orderId === o.id);
  return { o, cmd, slot: cmd.payload.slot as number, diskId: cmd.payload.diskId as string };
}

/** Places an order and answers its Dispense with `jammed`; resolves in `jam_hold`. */
async function jammedOrder(hub: RentalHub, k: HubTestKiosk, token: string) {
  const { o, cmd, slot, diskId } = await placeOrder(hub, k, token);
  await k.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId as string,
    orderId: o.id,
    slot,
    diskId,
    outcome: 'jammed',
    reason: 'eject failed: EJAM',
  });
  const held = await hub.waitOrder(token, o.id, (x) => x.state === 'jam_hold');
  return { id: o.id as string, slot, diskId, held };
}

const orderPayment = async (hub: RentalHub) =>
  (await hub.sandbox.payments()).filter((p) => p.amountMinor === 200);

const missing = async (hub: RentalHub) => {
  const r = await hub.admin('GET', '/api/operator/missing-disks');
  if (r.status !== 200) throw new Error(`missing-disks: ${r.status}`);
  return r.body.missingDisks as Array<Record<string, unknown>>;
};

t.test('jammed -> held; disk pulled within the window -> captured once, rental open', async (t) => {
  const { hub, k, me } = await setup(t);
  const o = await jammedOrder(hub, k, me.token);
  t.match(o.held.steps.at(-1).message, /pulled out of slot \d+ within 10 min/);
  t.same(
    (await orderPayment(hub)).map((p) => p.state),
    ['authorised'],
    'the payment stays authorised during the hold',
  );
  await hub.server.rental.reconciliation.runOnce();
  t.same(
    (await orderPayment(hub)).map((p) => p.state),
    ['authorised'],
    'reconciliation leaves a held payment alone',
  );
  const removed = {
    slot: o.slot,
    diskId: o.diskId,
    state: 'fault' as const,
    reason: 'pulled from a jammed slot',
    serviceDoorOpen: false,
  };
  const ev = await k.sendEvent('DiskRemoved', removed);
  await k.sendEvent('DiskRemoved', removed, ev); // re-sent from the outbox: de-duplicated
  const done = await hub.waitOrder(me.token, o.id, (x) => x.state === 'completed');
  t.ok(done.rentalId, 'rental open for the order');
  const rentals = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body;
  t.match(rentals, [{ id: done.rentalId, diskId: o.diskId, state: 'open' }]);
  const pays = await orderPayment(hub);
  t.equal(pays.length, 1);
  t.equal(pays[0]!.state, 'captured');
  t.equal(pays[0]!.captures, 1, 'captured once');
  const [listed] = (await hub.admin('GET', '/api/operator/orders?state=completed')).body.orders;
  t.match(
    listed,
    { id: o.id, chargedMinor: 200, renter: { id: String, label: String } },
    "operators see what was charged and the renter's name or login",
  );
  t.same(await missing(hub), [], 'nothing flagged missing');
  // Returned as usual: rental closed.
  await k.sendEvent('DiskReturned', {
    slot: o.slot,
    diskId: o.diskId,
    identityValid: true,
    writeProtected: false,
  });
  await waitFor('rental returned', async () => {
    const r = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body;
    return r[0]?.state === 'returned';
  });
});

t.test(
  'jammed, pulled after the window -> voided, flagged missing with the order; a return clears it',
  async (t) => {
    const { hub, k, me } = await setup(t);
    const o = await jammedOrder(hub, k, me.token);
    hub.clock.advance((HOLD_S + 1) * 1000);
    await k.sendEvent('DiskRemoved', {
      slot: o.slot,
      diskId: o.diskId,
      state: 'fault',
      reason: 'pulled from a jammed slot',
    });
    const f = await hub.waitOrder(me.token, o.id, (x) => x.state === 'failed');
    t.equal(f.failureReason, 'DISPENSE_JAMMED');
    await waitFor('voided', async () => (await orderPayment(hub))[0]?.state === 'voided');
    t.equal((await orderPayment(hub))[0]!.captures, 0);
    const failed = (await hub.admin('GET', '/api/operator/orders?state=failed')).body.orders;
    t.match(failed, [{ id: o.id, state: 'failed', chargedMinor: 0 }], 'a failed order: 0 charged');
    t.ok(f.amountMinor > 0, 'though its price was not 0');
    t.same(
      (await hub.admin('GET', '/api/operator/orders?state=completed')).body.orders,
      [],
      'the state filter',
    );
    t.equal((await hub.admin('GET', '/api/operator/orders?state=lost')).status, 400);
    const [m] = await missing(hub);
    t.match(m, {
      diskId: o.diskId,
      kioskId: 'k1',
      slot: o.slot,
      slotState: 'fault',
      orderId: o.id,
      door: null,
    });
    const audit = (await hub.admin('GET', '/api/operator/audit')).body.audit;
    t.ok(
      audit.some(
        (a: { action: string; subject: string }) =>
          a.action === 'disk.missing' && a.subject === o.diskId,
      ),
      'audited',
    );
    t.same(
      (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body,
      [],
      'no rental for a disk pulled after the window',
    );
    await k.sendEvent('DiskReturned', {
      slot: 2,
      diskId: o.diskId,
      identityValid: true,
      writeProtected: false,
    });
    await waitFor('flag cleared', async () => (await missing(hub)).length === 0);
  },
);

t.test('a disk pulled from a fault slot with no order -> flagged missing', async (t) => {
  const { hub, k } = await setup(t);
  await k.sendEvent('DiskRemoved', {
    slot: 2,
    diskId: 'k1-d2',
    state: 'fault',
    reason: 'k1-d2 left slot 2 while fault (EJAM)',
    serviceDoorOpen: true,
  });
  const list = await waitFor('flag', async () => {
    const l = await missing(hub);
    return l.length > 0 ? l : undefined;
  });
  t.match(list, [{ diskId: 'k1-d2', kioskId: 'k1', slot: 2, door: 'open', orderId: null }]);
  const renter = await hub.renter();
  const refused = await hub.api('GET', '/api/operator/missing-disks', undefined, renter.token);
  t.equal(refused.status, 403, 'operators only');
});

t.test('hold expiry voids; the slot recovering with the disk inside voids', async (t) => {
  const { hub, k, me } = await setup(t);
  const a = await jammedOrder(hub, k, me.token);
  await hub.server.rental.jamHolds.sweep();
  t.equal(
    (await hub.api('GET', `/api/orders/${a.id}`, undefined, me.token)).body.order.state,
    'jam_hold',
    'still held inside the window',
  );
  hub.clock.advance((HOLD_S + 1) * 1000);
  await hub.server.rental.jamHolds.sweep();
  const fa = await hub.waitOrder(me.token, a.id, (x) => x.state === 'failed');
  t.equal(fa.failureReason, 'DISPENSE_JAMMED');
  t.match(fa.steps.at(-1).message, /not pulled out within the jam-hold window/);
  await waitFor('voided', async () => (await orderPayment(hub))[0]?.state === 'voided');

  await k.inventory([
    {
      slot: 1,
      state: 'ready',
      diskId: 'k1-d3',
      capacityBytes: 64e9,
      contentId: 'c1',
      contentVersion: 'v1',
      writeProtect: false,
    },
  ]);
  const b = await jammedOrder(hub, k, me.token);
  await k.sendEvent('SlotStateChanged', { slot: b.slot, from: 'fault', to: 'loaded' });
  const fb = await hub.waitOrder(me.token, b.id, (x) => x.state === 'failed');
  t.match(fb.steps.at(-1).message, /recovered \(loaded\) with the disk inside/);
  await waitFor(
    'both voided',
    async () => (await orderPayment(hub)).filter((p) => p.state === 'voided').length === 2,
  );
  t.equal((await orderPayment(hub)).filter((p) => p.captures > 0).length, 0, 'no capture');
  t.same(await missing(hub), []);
});

/** Places an order and answers its Dispense `failed`, after the slot went to `to`. */
async function failedOrder(hub: RentalHub, k: HubTestKiosk, token: string, to: 'fault' | 'ready') {
  const { o, cmd, slot, diskId } = await placeOrder(hub, k, token);
  await k.sendEvent('SlotStateChanged', {
    slot,
    from: 'dispensing',
    to,
    snapshot: {
      slot,
      state: to,
      diskId,
      writeProtect: false,
      version: 1000,
      ...(to === 'fault' ? { fault: { code: 'EDISCONNECTED', message: 'board lost' } } : {}),
    },
  });
  await k.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId as string,
    orderId: o.id,
    slot,
    diskId,
    outcome: 'failed',
    reason: 'retract after the pickup window failed: board disconnected',
  });
  return { id: o.id as string, slot, diskId };
}

t.test(
  'failed with the slot left in fault -> held like a jam; back to ready -> voided',
  async (t) => {
    const { hub, k, me } = await setup(t);
    const a = await failedOrder(hub, k, me.token, 'fault');
    const held = await hub.waitOrder(me.token, a.id, (x) => x.state === 'jam_hold');
    t.match(held.steps.at(-1).message, /kiosk reported failed.*pulled out of slot/);
    await k.sendEvent('DiskRemoved', {
      slot: a.slot,
      diskId: a.diskId,
      state: 'fault',
      reason: 'pulled from a faulted slot',
    });
    t.equal(
      (await hub.waitOrder(me.token, a.id, (x) => x.state === 'completed')).state,
      'completed',
    );

    const b = await failedOrder(hub, k, me.token, 'ready');
    const failed = await hub.waitOrder(me.token, b.id, (x) => x.state === 'failed');
    t.equal(failed.failureReason, 'DISPENSE_FAILED');
  },
);
