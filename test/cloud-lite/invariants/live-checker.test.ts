// The live invariant checker over a real hub's database: a seeded double capture and a seq gap
// are flagged by the hub's job (as invariant_violation alerts) and by `cloud-lite check`
// (exit 2), and cleared once the records are right again (the alert resolved by the hub).
import t from 'tap';
import { runCheckCommand } from '../../../cloud-lite/invariants/check-command.js';
import type { OrderRecord, PaymentRecord } from '../../../cloud-lite/store/types.js';
import { orderRecord } from '../fixtures/records.js';
import { ADMIN_TOKEN, startTestHub } from '../fixtures/test-hub.js';

const T0 = new Date(Date.now() - 3600_000).toISOString();

const order = (id: string, o: Partial<OrderRecord> = {}): OrderRecord =>
  orderRecord(id, T0, {
    state: 'completed',
    diskId: 'disk-1',
    steps: [{ at: T0, state: 'completed', message: 'taken' }],
    ...o,
  });

const payment = (id: string, o: Partial<PaymentRecord> = {}): PaymentRecord => ({
  id,
  userId: 'u1',
  provider: 'external',
  providerRef: `ref-${id}`,
  kind: 'auth',
  parentId: null,
  purpose: 'order',
  refId: 'o1',
  amountMinor: 1500,
  capturedMinor: 1500,
  captureMinor: null,
  currency: 'EUR',
  state: 'captured',
  captureAfterAuth: false,
  failureCode: null,
  authorisedUntil: null,
  reason: null,
  createdAt: T0,
  updatedAt: T0,
  ...o,
});

t.test(
  'a seeded double capture: alert from the hub job, exit 2 from cloud-lite check',
  async (t) => {
    const hub = await startTestHub(t, {
      alerts: { invariantCheckIntervalSeconds: 0 } as never,
    });
    const { store, invariants } = hub.server;
    await store.transaction(async (tx) => {
      await tx.users.insert({
        id: 'u1',
        email: 'u1@example.org',
        phone: null,
        name: 'u1',
        role: 'renter',
        passwordHash: 'h',
        cardToken: null,
        cardLast4: null,
        createdAt: T0,
      });
      await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 });
      await tx.orders.insert(order('o1'));
      await tx.payments.insert(payment('p1'));
      await tx.events.insertIfNew({
        eventId: '00000000-0000-4000-8000-000000000001',
        kioskId: 'k1',
        seq: 1,
        type: 'DispenseCompleted',
        at: T0,
        data: { orderId: 'o1', outcome: 'taken', slot: 1, diskId: 'disk-1' },
        receivedAt: T0,
      });
      await tx.kiosks.setLastSeq('k1', 1);
    });
    const check = async () => {
      let out = '';
      const code = await runCheckCommand([], {
        env: {
          CLOUD_LITE_ADMIN_TOKEN: ADMIN_TOKEN,
          CLOUD_LITE_DATABASE_PATH: hub.config.databasePath,
        },
        out: (s) => {
          out += s;
        },
        err: (s) => {
          out += s;
        },
      });
      return { code, out };
    };
    t.same(await invariants.run(), [], 'a consistent record: no violation');
    t.same(await check(), { code: 0, out: '0 violations\n' });

    // A second captured payment for the same order, and an event seq 3 with seq 2 missing.
    await store.transaction(async (tx) => {
      await tx.payments.insert(payment('p2'));
      await tx.events.insertIfNew({
        eventId: '00000000-0000-4000-8000-000000000003',
        kioskId: 'k1',
        seq: 3,
        type: 'Heartbeat',
        at: T0,
        data: {},
        receivedAt: T0,
      });
    });
    const v = await invariants.run();
    t.same(v.map((x) => [x.invariant, x.ids]).sort(), [
      ['events-gap-free', { kioskId: 'k1', seq: 2 }],
      ['one-capture', { orderId: 'o1' }],
    ]);
    const alerts = (await hub.api('GET', '/api/operator/alerts')).body.alerts;
    t.same(alerts.map((a: { kind: string; key: string }) => [a.kind, a.key]).sort(), [
      ['invariant_violation', 'invariant_violation:events-gap-free:kioskId=k1,seq=2'],
      ['invariant_violation', 'invariant_violation:one-capture:orderId=o1'],
    ]);
    await invariants.run();
    t.equal(
      (await hub.api('GET', '/api/operator/alerts')).body.alerts.length,
      2,
      'a second run keeps one alert per violation',
    );
    const bad = await check();
    t.equal(bad.code, 2, 'cloud-lite check exits 2 on violations');
    t.match(bad.out, /one-capture: order captured 2 times \(orderId=o1\)/);
    t.match(bad.out, /2 violations/);

    // Put right: the second capture was a mistake recorded as voided; the seq 2 event arrives.
    await store.transaction(async (tx) => {
      await tx.payments.update('p2', { state: 'voided', capturedMinor: 0 });
      await tx.events.insertIfNew({
        eventId: '00000000-0000-4000-8000-000000000002',
        kioskId: 'k1',
        seq: 2,
        type: 'Heartbeat',
        at: T0,
        data: {},
        receivedAt: T0,
      });
    });
    t.same(await invariants.run(), []);
    t.same((await hub.api('GET', '/api/operator/alerts')).body.alerts, [], 'resolved by the hub');
    const resolved = (await hub.api('GET', '/api/operator/alerts?state=resolved')).body.alerts;
    t.same(
      resolved.map((a: { resolvedBy: string }) => a.resolvedBy),
      ['system:alerts', 'system:alerts'],
    );
    t.equal((await check()).code, 0);
  },
);

t.test('an authorisation left open too long and a slot in two live orders', async (t) => {
  const hub = await startTestHub(t, {
    alerts: { invariantCheckIntervalSeconds: 0, authorisationMaxAgeHours: 0.5 } as never,
  });
  await hub.server.store.transaction(async (tx) => {
    await tx.users.insert({
      id: 'u1',
      email: 'u1@example.org',
      phone: null,
      name: 'u1',
      role: 'renter',
      passwordHash: 'h',
      cardToken: null,
      cardLast4: null,
      createdAt: T0,
    });
    await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 });
    await tx.orders.insert(order('o1', { state: 'dispensing' }));
    await tx.orders.insert(order('o2', { state: 'authorised' }));
    await tx.payments.insert(payment('p1', { state: 'authorised', capturedMinor: 0 }));
  });
  const v = await hub.server.invariants.run();
  t.same(
    v.map((x) => x.invariant).sort(),
    ['authorisation-closed', 'slot-one-order'],
    JSON.stringify(v),
  );
  t.match(v.find((x) => x.invariant === 'slot-one-order')?.ids, {
    kioskId: 'k1',
    slot: 1,
    orderIds: 'o1,o2',
  });
});
