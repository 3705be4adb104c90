// The HTTP edge's failures: a malformed session cookie, fastify's router and parser errors,
// /metrics behind a token. Every answer is the API's `{ error: { code, message } }`.
import net from 'node:net';
import t from 'tap';
import { ADMIN_TOKEN, startRentalHub } from './rental/helpers/rental-hub.js';

const BAD_COOKIE = { cookie: 'dk_session=%E0%A4%A' };

/** Sends raw bytes and returns what the hub answers before it closes the socket. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => {
      out += d.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
    socket.on('connect', () => socket.write(bytes));
  });
}

function jsonOf(httpText: string): { error: { code: string; message: string } } {
  return JSON.parse(httpText.slice(httpText.indexOf('\r\n\r\n') + 4));
}

t.test('a malformed dk_session cookie counts as no session: 401, never 500', async (t) => {
  const hub = await startRentalHub(t);
  const { email } = await hub.renter();
  const me = await hub.api('GET', '/api/me', undefined, null, BAD_COOKIE);
  t.same([me.status, me.body.error.code], [401, 'UNAUTHENTICATED']);
  // A browser page sends its Origin with a POST (the CSRF check needs it with a cookie).
  const fromPage = { ...BAD_COOKIE, origin: hub.baseUrl };
  const login = await hub.api(
    'POST',
    '/api/auth/login',
    { login: email, password: 'correct horse battery' },
    null,
    fromPage,
  );
  t.equal(login.status, 200, 'login works with a bad cookie in the jar (and replaces it)');
  t.match(login.headers.get('set-cookie'), /^dk_session=[A-Za-z0-9_-]{43};/);
  const wrong = await hub.api(
    'POST',
    '/api/auth/login',
    { login: email, password: 'wrong password!' },
    null,
    fromPage,
  );
  t.same([wrong.status, wrong.body.error.code], [401, 'INVALID_CREDENTIALS']);
  const kiosks = await hub.api('GET', '/api/kiosks', undefined, null, BAD_COOKIE);
  t.equal(kiosks.status, 200, 'public routes ignore it');
  const withBearer = await hub.api('GET', '/api/me', undefined, login.body.token, BAD_COOKIE);
  t.equal(withBearer.status, 200, 'a bearer token still counts');
});

t.test("fastify's router and parser errors come in the API's error shape", async (t) => {
  const hub = await startRentalHub(t);
  const long = 'x'.repeat(150);
  for (const url of [
    `/api/orders/${long}`,
    `/api/operator/kiosks/${long}`,
    `/api/reservations/${long}/cancel`,
  ]) {
    const r = await hub.api(url.endsWith('cancel') ? 'POST' : 'GET', url, undefined, ADMIN_TOKEN);
    t.equal(r.status, 414, url);
    t.same(Object.keys(r.body), ['error'], `${url}: one error object`);
    t.equal(r.body.error.code, 'URI_TOO_LONG');
    t.notMatch(r.body.error.message, long, 'the URL is not echoed');
  }
  const badUrl = await hub.api('GET', '/api/orders/%E0%A4%A');
  t.same([badUrl.status, badUrl.body.error.code], [400, 'BAD_URL']);

  const port = new URL(hub.baseUrl).port;
  const big = await raw(
    Number(port),
    `GET /api/kiosks HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  );
  t.match(big, /^HTTP\/1\.1 431 /);
  t.same(jsonOf(big).error.code, 'HEADERS_TOO_LARGE');
  const garbage = await raw(Number(port), 'NOT HTTP AT ALL\r\n\r\n');
  t.match(garbage, /^HTTP\/1\.1 400 /);
  t.same(jsonOf(garbage).error.code, 'BAD_REQUEST');
});

t.test('/metrics needs the metrics token or the admin token', async (t) => {
  const metricsToken = 'metrics-scraper-token-0123';
  const hub = await startRentalHub(t, { config: { metricsToken } });
  const none = await hub.api('GET', '/metrics');
  t.same([none.status, none.body.error.code], [401, 'UNAUTHENTICATED']);
  t.equal(none.headers.get('www-authenticate'), 'Bearer');
  const wrong = await hub.api('GET', '/metrics', undefined, 'not-the-metrics-token-000');
  t.equal(wrong.status, 401);
  const renter = await hub.renter();
  t.equal((await hub.api('GET', '/metrics', undefined, renter.token)).status, 401, 'a renter');
  for (const token of [metricsToken, ADMIN_TOKEN]) {
    const ok = await hub.api('GET', '/metrics', undefined, token);
    t.equal(ok.status, 200);
    t.match(ok.body, /disk_kiosk_hub_connected_kiosks 0\n/);
  }
});

t.test('/metrics without a metricsToken: the admin token only', async (t) => {
  const hub = await startRentalHub(t);
  t.equal((await hub.api('GET', '/metrics')).status, 401);
  t.equal((await hub.api('GET', '/metrics', undefined, ADMIN_TOKEN)).status, 200);
});
