import t from 'tap';
import { HubTestKiosk, UpgradeRejected } from '../helpers/hub-test-kiosk.js';
import { startTestHub, waitUntil } from './fixtures/test-hub.js';

async function rejection(p: Promise<unknown>): Promise<UpgradeRejected> {
  try {
    await p;
  } catch (err) {
    if (err instanceof UpgradeRejected) return err;
    throw err;
  }
  throw new Error('expected the upgrade to be rejected');
}

t.test('enrolment token is single-use and the secret opens the socket', async (t) => {
  const hub = await startTestHub(t);
  const created = await hub.api('POST', '/api/operator/kiosks', { id: 'k1', name: 'Kiosk one' });
  t.equal(created.status, 201);
  t.match(created.body.enrolmentToken, /^[A-Za-z0-9_-]{43}$/);
  const enrol = () =>
    hub.api(
      'POST',
      '/api/kiosks/enrol',
      { kioskId: 'k1', token: created.body.enrolmentToken },
      null,
    );
  const first = await enrol();
  t.equal(first.status, 200);
  t.match(first.body.hubPublicKey, /BEGIN PUBLIC KEY/);
  const second = await enrol();
  t.equal(second.status, 401, 'token cannot be used twice');
  t.equal(second.body.error.code, 'ENROLMENT_INVALID');
  const kiosk = await hub.connectKiosk({ kioskId: 'k1', secret: first.body.secret });
  const boot = await kiosk.boot();
  t.equal(boot.status, 'Accepted');
  t.equal(boot.heartbeatInterval, hub.config.heartbeatIntervalSeconds);
  t.ok(Math.abs(Date.parse(boot.currentTime) - Date.now()) < 5000, 'server time');
  const pk = await fetch(`${hub.baseUrl}/api/hub/public-key`);
  t.equal(await pk.text(), first.body.hubPublicKey);
});

t.test('enrolment token expires', async (t) => {
  const hub = await startTestHub(t, { enrolmentTokenTtlSeconds: 1 });
  const created = await hub.api('POST', '/api/operator/kiosks', { id: 'k2' });
  await new Promise((r) => setTimeout(r, 1100));
  const res = await hub.api(
    'POST',
    '/api/kiosks/enrol',
    { kioskId: 'k2', token: created.body.enrolmentToken },
    null,
  );
  t.equal(res.status, 401);
  t.equal(res.body.error.code, 'ENROLMENT_INVALID');
});

t.test('upgrade failures are rejected before the upgrade with no detail', async (t) => {
  const hub = await startTestHub(t);
  const good = await hub.enrolKiosk('k1');
  const revoked = await hub.enrolKiosk('k2');
  await hub.api('POST', '/api/operator/kiosks/k2/revoke');
  const cases: Array<[string, Parameters<typeof HubTestKiosk.connect>[0], number]> = [
    ['wrong secret', { url: hub.wsUrl, kioskId: 'k1', secret: 'nope' }, 401],
    ['revoked kiosk', { url: hub.wsUrl, ...revoked }, 401],
    ['unknown id', { url: hub.wsUrl, kioskId: 'ghost', secret: good.secret }, 401],
    ['missing header', { url: hub.wsUrl, ...good, authorization: null }, 401],
    ['garbage header', { url: hub.wsUrl, ...good, authorization: 'Basic !!!' }, 401],
    ['bad subprotocol', { url: hub.wsUrl, ...good, subprotocol: 'ocpp1.6' }, 400],
    ['wrong path', { url: hub.wsUrl.replace('/kiosk', '/other'), ...good }, 404],
  ];
  for (const [name, opts, status] of cases) {
    const err = await rejection(HubTestKiosk.connect(opts));
    t.equal(err.status, status, `${name}: status`);
    t.equal(err.body, '', `${name}: no body`);
  }
  const ok = await HubTestKiosk.connect({ url: hub.wsUrl, ...good });
  t.equal((await ok.boot()).status, 'Accepted', 'the right secret still works');
  await ok.close();
});

t.test(
  'rotation: the old secret works until the new token is used, then its session is closed; revocation disconnects at once',
  async (t) => {
    const hub = await startTestHub(t);
    const creds = await hub.enrolKiosk('k1');
    const rot = await hub.api('POST', '/api/operator/kiosks/k1/rotate-secret');
    t.equal(rot.status, 200);
    const still = await hub.connectKiosk(creds);
    await still.boot();
    t.ok(await still.heartbeat(), 'the old secret works until the new token is used');
    const re = await hub.api(
      'POST',
      '/api/kiosks/enrol',
      { kioskId: 'k1', token: rot.body.enrolmentToken },
      null,
    );
    t.equal(re.status, 200);
    t.not(re.body.secret, creds.secret);
    // The session opened with the old secret is closed (its close began before the answer;
    // 30 s only bounds a failure).
    const oldClosed = await Promise.race([
      still.closed,
      new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 30_000).unref()),
    ]);
    t.same(oldClosed, { code: 4002, reason: 'secret replaced' }, 'old-secret session closed');
    await waitUntil('the hub dropped the session', () => !hub.server.hub.isConnected('k1'));
    const err = await rejection(HubTestKiosk.connect({ url: hub.wsUrl, ...creds }));
    t.equal(err.status, 401, 'old secret refused after re-enrolment');
    const fresh = await hub.connectKiosk({ kioskId: 'k1', secret: re.body.secret });
    await fresh.boot();
    const rev = await hub.api('POST', '/api/operator/kiosks/k1/revoke');
    t.equal(rev.status, 200);
    const closed = await fresh.closed;
    t.equal(closed.code, 4003, 'revoked kiosk disconnected');
    const again = await rejection(
      HubTestKiosk.connect({ url: hub.wsUrl, kioskId: 'k1', secret: re.body.secret }),
    );
    t.equal(again.status, 401);
  },
);

t.test('a new connection replaces the old one; liveness timeout marks offline', async (t) => {
  const hub = await startTestHub(t, { pingIntervalMs: 100 });
  const creds = await hub.enrolKiosk('k1');
  const a = await hub.connectKiosk(creds);
  await a.boot();
  const b = await hub.connectKiosk(creds);
  await b.boot();
  const closedA = await a.closed;
  t.equal(closedA.code, 4001, 'old connection closed as replaced');
  t.equal(hub.server.hub.connectedCount, 1);
  const detail = await hub.api('GET', '/api/operator/kiosks/k1');
  t.equal(detail.body.kiosk.status, 'online');
  await b.close();

  const dead = await hub.connectKiosk(creds, { autoPong: false });
  await dead.boot();
  const closedDead = await dead.closed;
  t.equal(closedDead.code, 1006, 'dead link dropped by the hub');
  const after = await hub.api('GET', '/api/operator/kiosks/k1');
  t.equal(after.body.kiosk.status, 'offline');
  t.ok(after.body.kiosk.lastSeenAt, 'last seen recorded');
});
