// Reservations never destroy sellable stock, and concurrent requests never collide (hub
// side), against a real cloud-lite with a scripted kiosk: the hub decides the
// slot in the create transaction and names it in PrepareDisk (as Dispense names its slot): a
// ready disk with the content (held, nothing copied), else a loaded disk, else a ready disk of
// other content only as the operator allows and while enough of that type stays ready. The
// reservable count follows the same rule per disk type; parallel reservations and walk-up
// orders each get their own disk or 409 before any money moves.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { HubTestKiosk } from '../../../helpers/hub-test-kiosk.js';
import { loadedSlot } from '../helpers/loaded-slot.js';
import { type RentalHub, readySlot, startRentalHub } from '../helpers/rental-hub.js';

const body = (kioskId: string, diskTypeId: string) => ({
  kioskId,
  diskTypeId,
  writeProtect: false,
  days: 1,
  card: { useSaved: true },
});

/** Catalog: films `c1` (type t64, from seedCatalog) and a course `c2` (type tc, 64 GB). */
async function start(t: Parameters<typeof startRentalHub>[0], rental?: Record<string, unknown>) {
  const hub = await startRentalHub(t, rental ? { rental } : {});
  await hub.seedCatalog();
  await hub.addCatalogEntry({
    contentId: 'c2',
    title: 'Course',
    typeId: 'tc',
    pricePerDayMinor: 300,
  });
  return hub;
}

async function renter(hub: RentalHub) {
  const me = await hub.renter();
  await hub.deposit(me.token);
  return me;
}

const reserve = (hub: RentalHub, token: string, kioskId: string, type: string) =>
  hub.api('POST', '/api/reservations', body(kioskId, type), token, {
    'idempotency-key': randomUUID(),
  });

const rent = (hub: RentalHub, token: string, kioskId: string, type: string) =>
  hub.api('POST', '/api/orders', body(kioskId, type), token, {
    'idempotency-key': randomUUID(),
  });

const code = (r: { body: { error?: { code?: string } } }) => r.body.error?.code;

const prepares = (k: HubTestKiosk) => k.commands.filter((c) => c.action === 'PrepareDisk');

async function nearby(hub: RentalHub) {
  return (await hub.api('GET', '/api/kiosks')).body[0];
}

t.test('a ready disk of other content is not taken for a reservation (default)', async (t) => {
  const hub = await start(t);
  const k = await hub.kiosk('k1', { slots: [readySlot(1, 'f1'), readySlot(2, 'f2')] });
  const me = await renter(hub);
  const r = await reserve(hub, me.token, 'k1', 'tc');
  t.equal(r.status, 409, JSON.stringify(r.body));
  t.equal(code(r), 'NO_DISK_AVAILABLE');
  t.same(prepares(k), [], 'no PrepareDisk: the films stock stays');
  t.notOk(
    (await hub.sandbox.payments()).some((p) => p.amountMinor === 300),
    'nothing authorised',
  );
  const k1 = await nearby(hub);
  t.same(k1.available, [
    { diskTypeId: 't64', count: 2, reservable: 2 },
    { diskTypeId: 'tc', count: 0, reservable: 0 },
  ]);
  t.same(k1.disks, { ready: 2, reservable: 2 });
});

t.test('reservable counts per disk type and distinct disks in all', async (t) => {
  const hub = await start(t);
  await hub.kiosk('k1', {
    slots: [readySlot(1, 'f1'), readySlot(2, 'f2'), loadedSlot(3, 'blank')],
  });
  const k1 = await nearby(hub);
  // Before: 3 + 3 reservable ("6 can be reserved" at a kiosk holding 3 disks).
  t.same(k1.available, [
    { diskTypeId: 't64', count: 2, reservable: 3 },
    { diskTypeId: 'tc', count: 0, reservable: 1 },
  ]);
  t.same(k1.disks, { ready: 2, reservable: 3 });
  const me = await renter(hub);
  const s = await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token);
  t.same(
    s.body.diskTypes.map((d: { id: string; available: number; reservable: number }) => [
      d.id,
      d.available,
      d.reservable,
    ]),
    [
      ['t64', 2, 3],
      ['tc', 0, 1],
    ],
  );
});

t.test(
  'the hub names the slot: a ready disk with the content first, then a loaded one',
  async (t) => {
    const hub = await start(t);
    const k = await hub.kiosk('k1', {
      slots: [loadedSlot(1, 'blank'), readySlot(2, 'c2-disk', { contentId: 'c2' })],
    });
    const me = await renter(hub);
    const a = await reserve(hub, me.token, 'k1', 'tc');
    t.equal(a.status, 201, JSON.stringify(a.body));
    t.equal(a.body.reservation.slot, 2, 'the ready course disk');
    const pa = await k.waitForCommand((c) => c.action === 'PrepareDisk');
    t.equal(pa.payload.slot, 2, 'PrepareDisk names the slot');
    t.equal(pa.payload.reformatReady, undefined);
    const other = await renter(hub);
    const b = await reserve(hub, other.token, 'k1', 'tc');
    t.equal(b.status, 201, JSON.stringify(b.body));
    t.equal(b.body.reservation.slot, 1, 'then the loaded disk');
    await k.waitForCommand((c) => c.action === 'PrepareDisk' && c.payload.slot === 1);
    const third = await renter(hub);
    t.equal(code(await reserve(hub, third.token, 'k1', 'tc')), 'NO_DISK_AVAILABLE');
  },
);

t.test(
  'ready stock of other content only as the operator allows, keeping enough ready',
  async (t) => {
    const hub = await start(t, { reservationsMayReformatReady: true, keepReadyPerType: 1 });
    const k = await hub.kiosk('k1', { slots: [readySlot(1, 'f1'), readySlot(2, 'f2')] });
    t.same((await nearby(hub)).available[1], { diskTypeId: 'tc', count: 0, reservable: 1 });
    const me = await renter(hub);
    const a = await reserve(hub, me.token, 'k1', 'tc');
    t.equal(a.status, 201, JSON.stringify(a.body));
    const p = await k.waitForCommand((c) => c.action === 'PrepareDisk');
    t.equal(p.payload.slot, a.body.reservation.slot);
    t.same(p.payload.reformatReady, { keepReady: 1 }, 'the kiosk is told it may reformat');
    // One films disk must stay: no second one, and it still sells walk-up.
    const b = await reserve(hub, (await renter(hub)).token, 'k1', 'tc');
    t.equal(code(b), 'NO_DISK_AVAILABLE');
    t.same((await nearby(hub)).available, [
      { diskTypeId: 't64', count: 1, reservable: 1 },
      { diskTypeId: 'tc', count: 0, reservable: 0 },
    ]);
  },
);

t.test(
  'a cancelled reservation leaves its disk as stock of the content it was given',
  async (t) => {
    const hub = await start(t);
    const k = await hub.kiosk('k1', { slots: [loadedSlot(1, 'blank')] });
    const me = await renter(hub);
    const a = await reserve(hub, me.token, 'k1', 'tc');
    const id = a.body.reservation.id as string;
    const p = await k.waitForCommand((c) => c.action === 'PrepareDisk');
    const held = readySlot(1, 'blank', {
      state: 'reserved',
      contentId: 'c2',
      reservationId: id,
      version: 3,
    });
    await k.sendEvent('SlotStateChanged', {
      slot: 1,
      from: 'preparing',
      to: 'reserved',
      snapshot: held,
    });
    await k.sendEvent('PrepareCompleted', {
      commandId: p.payload.commandId,
      reservationId: id,
      slot: 1,
      diskId: 'blank',
      contentId: 'c2',
      contentVersion: 'v1',
      holdUntil: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await hub.waitReservation(me.token, id, (r) => r.state === 'ready');
    t.equal(
      (await hub.api('POST', `/api/reservations/${id}/cancel`, undefined, me.token)).status,
      200,
    );
    await k.waitForCommand((c) => c.action === 'CancelReservation');
    const { reservationId: _r, ...ready } = { ...held, state: 'ready' as const, version: 4 };
    await k.sendEvent('SlotStateChanged', {
      slot: 1,
      from: 'reserved',
      to: 'ready',
      snapshot: ready,
    });
    t.same((await nearby(hub)).available[1], { diskTypeId: 'tc', count: 1, reservable: 1 });
    const walkUp = await rent(hub, (await renter(hub)).token, 'k1', 'tc');
    t.equal(walkUp.status, 201, `sold as course stock: ${JSON.stringify(walkUp.body)}`);
    t.equal(walkUp.body.order.slot, 1);
  },
);

t.test('parallel reservations and walk-up orders: each its own disk or 409', async (t) => {
  const hub = await start(t);
  const k = await hub.kiosk('k1', {
    slots: [readySlot(1, 'f1'), readySlot(2, 'f2'), loadedSlot(3, 'blank')],
  });
  const people = await Promise.all(Array.from({ length: 7 }, () => renter(hub)));
  // 3 films reservations + 4 films orders for 3 disks (2 ready films, 1 blank).
  const res = await Promise.all(
    people.map((p, i) =>
      i < 3 ? reserve(hub, p.token, 'k1', 't64') : rent(hub, p.token, 'k1', 't64'),
    ),
  );
  const won = res.filter((r) => r.status === 201);
  const lost = res.filter((r) => r.status !== 201);
  t.equal(won.length, 3, res.map((r) => `${r.status} ${code(r) ?? ''}`).join(', '));
  t.same(
    lost.map((r) => [r.status, code(r)]),
    lost.map(() => [409, 'NO_DISK_AVAILABLE']),
  );
  const slots = won.map((r) => (r.body.reservation ?? r.body.order).slot as number);
  t.same([...slots].sort(), [1, 2, 3], 'three distinct slots');
  await new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const poll = () => {
      const n = k.commands.filter((c) => ['PrepareDisk', 'Dispense'].includes(c.action)).length;
      if (n >= 3) return resolve();
      if (Date.now() > deadline) return reject(new Error(`${n} commands`));
      setTimeout(poll, 20);
    };
    poll();
  });
  const named = k.commands
    .filter((c) => ['PrepareDisk', 'Dispense'].includes(c.action))
    .map((c) => c.payload.slot as number);
  t.same([...named].sort(), [1, 2, 3], 'the kiosk is told three distinct slots');
  const authorised = (await hub.sandbox.payments()).filter((p) => p.amountMinor === 200);
  t.equal(authorised.length, 3, 'money moved only for the three that got a disk');
});
