import { randomUUID } from 'node:crypto';
import t from 'tap';
import { ADMIN_TOKEN, startRentalHub } from './helpers/rental-hub.js';

const ROLES = [
  'anonymous',
  'renter',
  'otherRenter',
  'technician',
  'operator',
  'admin',
  'adminToken',
] as const;
type RoleName = (typeof ROLES)[number];

t.test('every role against every route', async (t) => {
  const hub = await startRentalHub(t, {
    rental: { bootstrapAdmin: { email: 'admin@example.test', password: 'admin password 123' } },
  });
  await hub.seedCatalog();
  const k = await hub.kiosk('k1');
  const login = async (email: string, password: string) =>
    (await hub.api('POST', '/api/auth/login', { login: email, password })).body.token as string;
  const admin = await login('admin@example.test', 'admin password 123');
  for (const role of ['technician', 'operator']) {
    const r = await hub.api(
      'POST',
      '/api/operator/users',
      { email: `${role}@example.test`, password: 'staff password 123', role },
      admin,
    );
    t.equal(r.status, 201);
  }
  const renter = await hub.renter();
  const other = await hub.renter();
  await hub.deposit(renter.token);
  const o = (
    await hub.api(
      'POST',
      '/api/orders',
      { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: { useSaved: true } },
      renter.token,
      { 'idempotency-key': randomUUID() },
    )
  ).body.order;
  const cmd = await k.waitForCommand((c) => c.action === 'Dispense');
  await k.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId,
    orderId: o.id,
    slot: 1,
    diskId: 'k1-d1',
    outcome: 'taken',
  });
  const done = await hub.waitOrder(renter.token, o.id, (x) => x.state === 'completed');

  const tokens: Record<RoleName, string | null> = {
    anonymous: null,
    renter: renter.token,
    otherRenter: other.token,
    technician: await login('technician@example.test', 'staff password 123'),
    operator: await login('operator@example.test', 'staff password 123'),
    admin,
    adminToken: ADMIN_TOKEN,
  };
  let n = 0;
  const table: Array<[string, string, unknown, number[]]> = [
    //                                                          anon renter other tech  op   admin token
    ['GET', '/api/content', undefined, [200, 200, 200, 200, 200, 200, 200]],
    ['GET', '/api/kiosks?near=52.5,13.4', undefined, [200, 200, 200, 200, 200, 200, 200]],
    ['GET', '/api/me', undefined, [401, 200, 200, 200, 200, 200, 403]],
    ['GET', '/api/me/orders', undefined, [401, 200, 200, 200, 200, 200, 403]],
    ['GET', '/api/me/rentals', undefined, [401, 200, 200, 200, 200, 200, 403]],
    ['POST', '/api/kiosks/k1/session', undefined, [401, 200, 200, 200, 200, 200, 403]],
    ['GET', `/api/orders/${o.id}`, undefined, [401, 200, 404, 404, 200, 200, 403]],
    // "I didn't get my disk": only the renter of the order (staff read it, they do not report).
    ['POST', `/api/orders/${o.id}/not-received`, {}, [401, 200, 404, 404, 404, 404, 403]],
    ['GET', '/api/reservations/rsv-none', undefined, [401, 404, 404, 404, 404, 404, 403]],
    [
      'POST',
      `/api/rentals/${done.rentalId}/extend`,
      { days: 1 },
      [401, 200, 404, 404, 404, 404, 403],
    ],
    ['GET', '/api/operator/orders', undefined, [401, 403, 403, 403, 200, 200, 200]],
    ['GET', '/api/operator/reservations', undefined, [401, 403, 403, 403, 200, 200, 200]],
    ['GET', '/api/operator/audit', undefined, [401, 403, 403, 403, 200, 200, 200]],
    ['GET', '/api/operator/reconciliation', undefined, [401, 403, 403, 200, 200, 200, 200]],
    [
      'POST',
      '/api/operator/content',
      () => ({ id: `c-${n++}`, title: 'T', version: '1', sizeBytes: 1 }),
      [401, 403, 403, 403, 201, 201, 201],
    ],
    [
      'POST',
      '/api/operator/users',
      () => ({ email: `u${n++}@example.test`, password: 'staff password 123', role: 'operator' }),
      [401, 403, 403, 403, 403, 201, 201],
    ],
    // The rental terms (deposit, late fee, lost-disk charge): operators and admins.
    ['GET', '/api/operator/rental-settings', undefined, [401, 403, 403, 403, 200, 200, 200]],
    [
      'POST',
      '/api/operator/rental-settings',
      { depositMinor: 5000, overdueFeePerDayMinor: 300, lostDiskChargeMinor: 5000 },
      [401, 403, 403, 403, 200, 200, 200],
    ],
    // The fleet API answers like every operator route (one guard): a wrong role is 403.
    ['GET', '/api/operator/kiosks', undefined, [401, 403, 403, 403, 200, 200, 200]],
  ];
  for (const [method, url, body, expected] of table) {
    for (const [i, role] of ROLES.entries()) {
      const b = typeof body === 'function' ? body() : body;
      const r = await hub.api(method, url, b, tokens[role]);
      t.equal(
        r.status,
        expected[i],
        `${role} ${method} ${url}: ${JSON.stringify(r.body).slice(0, 120)}`,
      );
      if (r.status >= 400) t.type(r.body.error?.code, 'string', 'error body has a code');
    }
  }
});
