// A kiosk without the `prepare-slot` feature gets PrepareDisk without `slot` and chooses its disk
// itself (docs/protocol.md, PrepareDisk): the hub's claim follows the slot the kiosk reports, and
// a reservation the hub had placed in that slot, whose kiosk has not reported its own choice yet,
// takes the slot released, so no slot is claimed twice and none leaks. One hub, a scripted kiosk.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { loadedSlot } from '../helpers/loaded-slot.js';
import { startRentalHub } from '../helpers/rental-hub.js';

const hub = await startRentalHub(t);
await hub.seedCatalog();
const k = await hub.kiosk('k1', { slots: [loadedSlot(1, 'disk-a'), loadedSlot(2, 'disk-b')] });
await k.boot({ features: ['install-update'] });

const reserve = async () => {
  const me = await hub.renter();
  await hub.deposit(me.token);
  const r = await hub.api(
    'POST',
    '/api/reservations',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
    me.token,
    { 'idempotency-key': randomUUID() },
  );
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return { token: me.token, id: r.body.reservation.id as string, slot: r.body.reservation.slot };
};
const view = async (who: { token: string; id: string }) =>
  (await hub.api('GET', `/api/reservations/${who.id}`, undefined, who.token)).body.reservation;

t.test('the claim follows the slot the kiosk chose', async (t) => {
  const a = await reserve();
  const b = await reserve();
  t.same([a.slot, b.slot], [1, 2], 'the hub placed them in slots 1 and 2');
  const pa = await k.waitForCommand(
    (c) => c.action === 'PrepareDisk' && c.payload.reservationId === a.id,
  );
  t.equal(pa.payload.slot, undefined, 'PrepareDisk without slot: the kiosk chooses');
  await k.waitForCommand((c) => c.action === 'PrepareDisk' && c.payload.reservationId === b.id);

  // The kiosk took slot 2 for the first reservation.
  await k.sendEvent('SlotStateChanged', {
    slot: 2,
    from: 'loaded',
    to: 'preparing',
    snapshot: loadedSlot(2, 'disk-b', { state: 'preparing', version: 2 }),
  });
  await k.sendEvent('PrepareProgress', {
    commandId: pa.payload.commandId,
    reservationId: a.id,
    slot: 2,
    step: 'formatting',
    bytesDone: 0,
    bytesTotal: 0,
    filesDone: 0,
    filesTotal: 0,
    rateBps: 0,
    etaSeconds: 0,
  });
  await hub.waitReservation(a.token, a.id, (r) => (r as { slot?: number }).slot === 2);
  t.equal((await view(a)).diskId, 'disk-b', 'with the disk there');
  t.equal((await view(b)).slot, 1, 'the other reservation takes the slot released');

  const third = await hub.renter();
  await hub.deposit(third.token);
  const c = await hub.api(
    'POST',
    '/api/reservations',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
    third.token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(c.status, 409, 'both disks are taken: no third reservation');
  t.equal(c.body.error.code, 'NO_DISK_AVAILABLE');

  await k.sendEvent('PrepareCompleted', {
    commandId: pa.payload.commandId,
    reservationId: a.id,
    slot: 2,
    diskId: 'disk-b',
    contentId: 'c1',
    contentVersion: 'v1',
    holdUntil: new Date(Date.now() + 3_600_000).toISOString(),
  });
  const ready = (await hub.waitReservation(a.token, a.id, (r) => r.state === 'ready')) as {
    slot?: number;
    diskId?: string;
  };
  t.same([ready.slot, ready.diskId], [2, 'disk-b']);
  t.equal((await view(b)).slot, 1, 'still one reservation per slot');
});
