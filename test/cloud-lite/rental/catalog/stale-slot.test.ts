// An order after the kiosk reported its slot empty (SlotStateChanged with its snapshot) is
// refused NO_DISK_AVAILABLE instead of being assigned the empty slot.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { readySlot, startRentalHub } from '../helpers/rental-hub.js';

const order = (kioskId: string) => ({
  kioskId,
  diskTypeId: 't64',
  writeProtect: false,
  days: 1,
  card: { useSaved: true },
});

t.test('an order after the kiosk reported its slot empty is refused', async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  const k = await hub.kiosk('k1', { slots: [readySlot(1, 'k1-d1', { version: 4 })] });
  const me = await hub.renter();
  await hub.deposit(me.token);
  let s = await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token);
  t.same(
    s.body.diskTypes.map((d: { available: number; reservable: number }) => [
      d.available,
      d.reservable,
    ]),
    [[1, 1]],
  );

  // A technician pulled the disk: the kiosk reports the slot empty.
  await k.sendEvent('SlotStateChanged', {
    slot: 1,
    from: 'ready',
    to: 'empty',
    reason: 'disk removed',
    snapshot: { slot: 1, state: 'empty', writeProtect: false, version: 5 },
  });
  s = await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token);
  t.same(
    s.body.diskTypes.map((d: { available: number; reservable: number }) => [
      d.available,
      d.reservable,
    ]),
    [[0, 0]],
    'the session shows nothing left',
  );
  const res = await hub.api('POST', '/api/orders', order('k1'), me.token, {
    'idempotency-key': randomUUID(),
  });
  t.equal(res.status, 409, JSON.stringify(res.body));
  t.equal(res.body.code ?? res.body.error?.code, 'NO_DISK_AVAILABLE');
  t.notOk(
    k.commands.some((c) => c.action === 'Dispense'),
    'no Dispense sent to the kiosk',
  );
  const list = await hub.api('GET', '/api/kiosks');
  t.same(list.body[0].available, [{ diskTypeId: 't64', count: 0, reservable: 0 }]);
});
