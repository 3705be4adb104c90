// CSRF: state-changing requests authenticated by the session cookie must come from the hub's
// own origin; live streams authenticate by cookie, never by a token in the URL.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { CARD, type RentalHub, startRentalHub } from './rental/helpers/rental-hub.js';

const EVIL = 'https://evil.example';

/** A renter's session cookie (`dk_session=...`), from the confirmation answer. */
async function cookieOf(hub: RentalHub, email = `c-${randomUUID().slice(0, 6)}@example.test`) {
  const r = await hub.register(email);
  const raw = r.headers.get('set-cookie') ?? '';
  return { cookie: raw.split(';')[0]!, token: r.body.token as string, email };
}

async function post(
  hub: RentalHub,
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; code?: string }> {
  const res = await fetch(hub.baseUrl + url, { method: 'POST', headers, body });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text).error?.code;
  } catch {}
  return { status: res.status, code };
}

t.test('a cookie-authenticated POST from another site is refused', async (t) => {
  const hub = await startRentalHub(t);
  const { cookie, token } = await cookieOf(hub);
  const own = hub.baseUrl;
  const deposit = JSON.stringify({ amountMinor: 5000, card: CARD });

  for (const [what, headers, body] of [
    ['text/plain body', { cookie, origin: EVIL, 'content-type': 'text/plain' }, deposit],
    ['no body', { cookie, origin: EVIL }, undefined],
    ['JSON body', { cookie, origin: EVIL, 'content-type': 'application/json' }, deposit],
    ['Origin null', { cookie, origin: 'null', 'content-type': 'application/json' }, deposit],
    ['no Origin', { cookie, 'content-type': 'application/json' }, deposit],
  ] as const) {
    const r = await post(hub, '/api/me/deposit', headers, body);
    t.same([r.status, r.code], [403, 'CROSS_ORIGIN'], what);
  }
  t.equal((await hub.api('GET', '/api/me', undefined, token)).body.deposit.heldMinor, 0);
  const logout = await post(hub, '/api/auth/logout', { cookie, origin: EVIL });
  t.equal(logout.status, 403, 'not even a logout');

  const ok = await post(
    hub,
    '/api/me/deposit',
    { cookie, origin: own, 'content-type': 'application/json' },
    deposit,
  );
  t.equal(ok.status, 200, 'the same request from the hub’s own page passes');
  const bearer = await post(
    hub,
    '/api/me/deposit',
    { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    deposit,
  );
  t.equal(bearer.status, 200, 'an API client with a bearer header needs no Origin');
  t.equal((await hub.api('GET', '/api/me', undefined, token)).body.deposit.heldMinor, 10000);

  const loginCsrf = await post(
    hub,
    '/api/auth/login',
    { origin: EVIL, 'content-type': 'application/json' },
    JSON.stringify({ login: 'x@example.test', password: 'correct horse battery' }),
  );
  t.same([loginCsrf.status, loginCsrf.code], [403, 'CROSS_ORIGIN'], 'no login from another site');
  const kioskEnrol = await post(
    hub,
    '/api/kiosks/enrol',
    { 'content-type': 'application/json' },
    JSON.stringify({ kioskId: 'k-x', token: 'not-a-token' }),
  );
  t.not(kioskEnrol.status, 403, 'no cookie, no Origin (a kiosk): not a CSRF case');
});

t.test('operator routes take a staff session cookie, under the same rule', async (t) => {
  const hub = await startRentalHub(t);
  await hub.admin('POST', '/api/operator/users', {
    email: 'ops@example.test',
    password: 'operator pass 123',
    role: 'operator',
  });
  const login = await fetch(`${hub.baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'ops@example.test', password: 'operator pass 123' }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const list = await fetch(`${hub.baseUrl}/api/operator/kiosks`, { headers: { cookie } });
  t.equal(list.status, 200, 'the dashboard reads with its cookie');
  const body = JSON.stringify({ id: 'k-new' });
  const evil = await post(
    hub,
    '/api/operator/kiosks',
    {
      cookie,
      origin: EVIL,
      'content-type': 'application/json',
    },
    body,
  );
  t.same([evil.status, evil.code], [403, 'CROSS_ORIGIN']);
  const own = await post(
    hub,
    '/api/operator/kiosks',
    {
      cookie,
      origin: hub.baseUrl,
      'content-type': 'application/json',
    },
    body,
  );
  t.equal(own.status, 201);
});

t.test('behind a trusted TLS proxy the public origin counts', async (t) => {
  const hub = await startRentalHub(t, {
    config: { trustProxy: ['127.0.0.1'], publicUrl: 'https://rent.example' },
  });
  const { cookie } = await cookieOf(hub);
  const viaProxy = {
    cookie,
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'shop.example',
    'content-type': 'application/json',
  };
  const body = JSON.stringify({ amountMinor: 5000, card: CARD });
  t.equal(
    (await post(hub, '/api/me/deposit', { ...viaProxy, origin: 'https://shop.example' }, body))
      .status,
    200,
  );
  t.equal(
    (await post(hub, '/api/me/deposit', { ...viaProxy, origin: 'https://rent.example' }, body))
      .status,
    200,
  );
  t.equal(
    (await post(hub, '/api/me/deposit', { ...viaProxy, origin: 'http://shop.example' }, body))
      .status,
    403,
    'scheme counts',
  );
});

t.test('live streams authenticate by cookie; a token in the URL is not accepted', async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  await hub.kiosk('k1');
  const { cookie, token } = await cookieOf(hub);
  await hub.deposit(token);
  const created = await hub.api(
    'POST',
    '/api/orders',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: true, days: 2, card: CARD },
    token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(created.status, 201, JSON.stringify(created.body));
  const url = `${hub.baseUrl}/api/orders/${created.body.order.id}/events`;

  const byCookie = new AbortController();
  const res = await fetch(url, { headers: { cookie }, signal: byCookie.signal });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/event-stream/);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  t.match(first, /^event: order\ndata: \{"order":\{"id":"/);
  byCookie.abort();
  await reader.cancel().catch(() => undefined);

  const byQuery = await fetch(`${url}?token=${encodeURIComponent(token)}`);
  t.same(
    [byQuery.status, ((await byQuery.json()) as { error: { code: string } }).error.code],
    [401, 'UNAUTHENTICATED'],
    'the URL token is not read',
  );
  const both = await fetch(`${url}?token=${encodeURIComponent(token)}`, { headers: { cookie } });
  t.equal(both.status, 400, 'and a URL token is refused outright');
  await both.text();
});
