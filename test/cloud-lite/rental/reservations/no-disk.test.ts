// Reservations are refused at a kiosk with no disk it could prepare (instead of failing there
// with ENODISK and a voided payment), and two concurrent ones cannot both take the last disk.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { loadedSlot } from '../helpers/loaded-slot.js';
import { GB, type RentalHub, readySlot, startRentalHub } from '../helpers/rental-hub.js';

const body = (kioskId: string) => ({
  kioskId,
  diskTypeId: 't64',
  writeProtect: false,
  days: 1,
  card: { useSaved: true },
});

async function renter(hub: RentalHub) {
  const me = await hub.renter();
  await hub.deposit(me.token);
  return me;
}

function reserve(hub: RentalHub, token: string, kioskId: string) {
  return hub.api('POST', '/api/reservations', body(kioskId), token, {
    'idempotency-key': randomUUID(),
  });
}

function code(res: { body: { code?: string; error?: { code?: string } } }) {
  return res.body.code ?? res.body.error?.code;
}

t.test('refused when the kiosk has no preparable disk', async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', {
    slots: [
      { slot: 1, state: 'empty', writeProtect: false },
      loadedSlot(2, 'small', { capacityBytes: 32 * GB }),
      { ...loadedSlot(3, 'faulty'), state: 'fault', fault: { code: 'EJAM', message: 'jam' } },
      readySlot(4, 'held', { state: 'reserved', reservationId: 'rsv-other' }),
    ],
  });
  const me = await renter(hub);
  const res = await reserve(hub, me.token, 'k1');
  t.equal(res.status, 409, JSON.stringify(res.body));
  t.equal(code(res), 'NO_DISK_AVAILABLE');
  t.match(JSON.stringify(res.body), /another kiosk/);
  t.notOk(
    k.commands.some((c) => c.action === 'PrepareDisk'),
    'no PrepareDisk sent',
  );
  const payments = await hub.sandbox.payments();
  t.notOk(
    payments.some((p) => p.amountMinor === 200),
    'no payment authorised for the refused reservation',
  );
});

t.test('accepted with one loaded disk; a second concurrent one is refused', async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', { slots: [loadedSlot(1, 'blank')] });
  const a = await renter(hub);
  const b = await renter(hub);
  const [ra, rb] = await Promise.all([reserve(hub, a.token, 'k1'), reserve(hub, b.token, 'k1')]);
  const statuses = [ra.status, rb.status].sort();
  t.same(statuses, [201, 409], `${JSON.stringify(ra.body)} ${JSON.stringify(rb.body)}`);
  const refused = ra.status === 409 ? ra : rb;
  t.equal(code(refused), 'NO_DISK_AVAILABLE');
  const won = (ra.status === 201 ? ra : rb).body.reservation;
  const prep = await k.waitForCommand((c) => c.action === 'PrepareDisk');
  t.equal(prep.payload.reservationId, won.id);

  // The kiosk claims the disk (slot -> preparing): still nothing left, and not counted twice.
  await k.sendEvent('SlotStateChanged', {
    slot: 1,
    from: 'loaded',
    to: 'preparing',
    snapshot: { slot: 1, state: 'preparing', diskId: 'blank', writeProtect: false, version: 1 },
  });
  const c = await renter(hub);
  const again = await reserve(hub, c.token, 'k1');
  t.equal(again.status, 409);
  t.equal(code(again), 'NO_DISK_AVAILABLE');

  // A second disk arrives: one more reservation fits.
  await k.sendEvent('SlotStateChanged', {
    slot: 2,
    from: 'empty',
    to: 'loaded',
    snapshot: { ...loadedSlot(2, 'blank2'), version: 1 },
  });
  const list = await hub.api('GET', '/api/kiosks');
  t.same(list.body[0].available, [{ diskTypeId: 't64', count: 0, reservable: 1 }]);
  const third = await reserve(hub, c.token, 'k1');
  t.equal(third.status, 201, JSON.stringify(third.body));
});
