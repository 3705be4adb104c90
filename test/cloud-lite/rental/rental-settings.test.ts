// Stored rental settings (docs/money-and-limits.md, "Rental settings"): seeded from the config
// at the first start and then the store's values win; the operator route is authorised,
// validated and audited; every page and decision reads the store (a change written by another
// process shows at once); a rental keeps the late fee and lost-disk charge it was sold with,
// a reservation's through its pickup.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { RentalSettings } from '../../../cloud-lite/rental/billing/rental-settings.js';
import { loadedSlot } from './helpers/loaded-slot.js';
import { DAY_MS, prepareReady, startRentalHub } from './helpers/rental-hub.js';

const hub = await startRentalHub(t, {
  rental: {
    minDepositMinor: 1000,
    overdueFeePerDayMinor: 100,
    lostDiskChargeMinor: 1500,
    overdueMaxDays: 2,
    maxOpenRentals: 2,
  },
});
await hub.seedCatalog();
const k = await hub.kiosk('k1');
const me = await hub.renter();
const settingsUrl = '/api/operator/rental-settings';

/** Rents one disk at k1 for a day and has the kiosk report it taken; the order's id. */
async function rent(diskId: string, slot: number): Promise<string> {
  const created = await hub.api(
    'POST',
    '/api/orders',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
    me.token,
    { 'idempotency-key': randomUUID() },
  );
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const o = created.body.order;
  const cmd = await k.waitForCommand((c) => c.action === 'Dispense' && c.payload.orderId === o.id);
  await k.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId,
    orderId: o.id,
    slot,
    diskId,
    outcome: 'taken',
  });
  await hub.waitOrder(me.token, o.id, (x) => x.state === 'completed');
  return o.id;
}

t.test('seeded from the config at the first start; later config values are ignored', async (t) => {
  const got = await hub.admin('GET', settingsUrl);
  t.equal(got.status, 200);
  t.match(got.body.settings, {
    depositMinor: 1000,
    overdueFeePerDayMinor: 100,
    lostDiskChargeMinor: 1500,
    currency: 'EUR',
    updatedBy: 'config',
  });
  // Another start with other config values (as after an edit of the file) seeds nothing.
  const later = new RentalSettings({
    store: hub.server.store,
    config: {
      ...hub.server.rental.deps.config,
      minDepositMinor: 9999,
      overdueFeePerDayMinor: 999,
      lostDiskChargeMinor: 9,
    },
    now: () => new Date(),
  });
  await later.seed();
  t.match(await later.current(), { depositMinor: 1000, overdueFeePerDayMinor: 100 });
  t.match((await hub.api('GET', '/api/terms')).body, {
    depositMinor: 1000,
    overdueFeePerDayMinor: 100,
    lostDiskChargeMinor: 1500,
  });
});

t.test('the operator route: authorised, validated, audited', async (t) => {
  const body = { depositMinor: 2000, overdueFeePerDayMinor: 250, lostDiskChargeMinor: 4000 };
  t.equal((await hub.api('POST', settingsUrl, body)).status, 401, 'no session');
  t.equal((await hub.api('POST', settingsUrl, body, me.token)).status, 403, 'a renter');
  t.equal((await hub.api('GET', settingsUrl, undefined, me.token)).status, 403);
  for (const bad of [
    { ...body, depositMinor: 0 },
    { ...body, overdueFeePerDayMinor: -1 },
    { ...body, lostDiskChargeMinor: 12.5 },
    { ...body, lostDiskChargeMinor: '4000' },
    { depositMinor: 2000, overdueFeePerDayMinor: 250 },
    { ...body, currency: 'USD' },
  ]) {
    const r = await hub.admin('POST', settingsUrl, bad);
    t.same([r.status, r.body.error?.code], [400, 'VALIDATION'], JSON.stringify(bad));
  }
  t.match((await hub.admin('GET', settingsUrl)).body.settings, { depositMinor: 1000 }, 'unchanged');
  const saved = await hub.admin('POST', settingsUrl, body);
  t.equal(saved.status, 200);
  t.match(saved.body.settings, { ...body, updatedBy: 'admin-token' });
  const entry = (await hub.admin('GET', '/api/operator/audit')).body.audit.find(
    (a: { action: string }) => a.action === 'rental_settings.saved',
  );
  t.match(entry, {
    actor: 'admin-token',
    details: {
      before: { depositMinor: 1000, overdueFeePerDayMinor: 100, lostDiskChargeMinor: 1500 },
      after: body,
    },
  });
  // Back to the seed's values for the next test (the route's other direction).
  t.equal(
    (
      await hub.admin('POST', settingsUrl, {
        depositMinor: 1000,
        overdueFeePerDayMinor: 100,
        lostDiskChargeMinor: 1500,
      })
    ).status,
    200,
  );
});

t.test('rentals keep the terms they were sold with; new ones get the new terms', async (t) => {
  t.equal((await hub.deposit(me.token, 3000)).status, 200);
  const first = await rent('k1-d1', 1);
  // Another hub process changes the settings (it writes the same store): this one sees it at
  // once, on its pages and in its decisions.
  await hub.server.store.transaction((tx) =>
    tx.rentalSettings.put({
      depositMinor: 4000,
      overdueFeePerDayMinor: 250,
      lostDiskChargeMinor: 2000,
      updatedAt: new Date().toISOString(),
      updatedBy: 'user:other-process',
    }),
  );
  t.match((await hub.api('GET', '/api/kiosks/k1/offer')).body.terms, {
    depositMinor: 4000,
    overdueFeePerDayMinor: 250,
    lostDiskChargeMinor: 2000,
  });
  const session = await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token);
  t.same(session.body.reasons, ['NO_DEPOSIT'], 'a deposit of 3000 is short of the new 4000');
  t.equal((await hub.deposit(me.token, 2000)).status, 200);
  const second = await rent('k1-d2', 2);

  type RentalView = {
    orderId: string;
    state: string;
    overdueFeePerDayMinor?: number;
    lostDiskChargeMinor?: number;
    charges: Array<{ kind: string; amountMinor: number }>;
  };
  /** The two rentals, the first sold first. */
  const rentals = async () => {
    const all = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body as RentalView[];
    return [first, second].map((id) => all.find((r) => r.orderId === id)!);
  };
  t.match(
    (await rentals()).map((r) => [r.overdueFeePerDayMinor, r.lostDiskChargeMinor]),
    [
      [100, 1500],
      [250, 2000],
    ],
    'each rental shows the terms it was paid under',
  );

  hub.clock.advance(DAY_MS + 3600_000); // both a day late
  await hub.server.rental.reconciliation.runOnce();
  hub.clock.advance(2 * DAY_MS); // past overdueMaxDays: lost
  await hub.server.rental.reconciliation.runOnce();
  const fees = (await rentals()).map((r) => [
    r.state,
    r.charges.filter((c) => c.kind !== 'rental').map((c) => [c.kind, c.amountMinor]),
  ]);
  t.same(fees, [
    [
      'lost',
      [
        ['overdue', 100],
        ['overdue', 100],
        ['lost', 1500],
      ],
    ],
    [
      'lost',
      [
        ['overdue', 250],
        ['overdue', 250],
        ['lost', 2000],
      ],
    ],
  ]);
  const held = (await hub.api('GET', '/api/me', undefined, me.token)).body.deposit.heldMinor;
  t.equal(held, 5000 - 200 - 1500 - 500 - 2000, 'each taken from the deposit at its own terms');
});

t.test('a reservation keeps the terms it was paid under through its pickup', async (t) => {
  const k2 = await hub.kiosk('k2', { slots: [loadedSlot(3, 'k2-d3')] });
  const ann = await hub.renter();
  t.equal((await hub.deposit(ann.token, 5000)).status, 200);
  const made = await hub.api(
    'POST',
    '/api/reservations',
    { kioskId: 'k2', diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
    ann.token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(made.status, 201, JSON.stringify(made.body));
  const r = made.body.reservation;
  // The operator raises the fees while the disk is being prepared.
  const raised = { depositMinor: 4000, overdueFeePerDayMinor: 999, lostDiskChargeMinor: 9999 };
  t.equal((await hub.admin('POST', settingsUrl, raised)).status, 200);
  await prepareReady(hub, k2, ann.token, r.id, { slot: 3, diskId: 'k2-d3' });
  const pick = await hub.api('POST', `/api/reservations/${r.id}/pickup`, undefined, ann.token);
  t.equal(pick.status, 200, JSON.stringify(pick.body));
  const disp = await k2.waitForCommand((c) => c.action === 'Dispense');
  await k2.sendEvent('DispenseCompleted', {
    commandId: disp.payload.commandId,
    orderId: pick.body.order.id,
    reservationId: r.id,
    slot: 3,
    diskId: 'k2-d3',
    outcome: 'taken',
  });
  await hub.waitOrder(ann.token, pick.body.order.id, (x) => x.state === 'completed');
  const [rental] = (await hub.api('GET', '/api/me/rentals', undefined, ann.token)).body;
  t.match(
    rental,
    { overdueFeePerDayMinor: 250, lostDiskChargeMinor: 2000 },
    'the terms of when the reservation was paid, not the raised ones',
  );
});
