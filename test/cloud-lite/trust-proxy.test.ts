// Behind a TLS-terminating reverse proxy: `trustProxy` names the proxies whose
// X-Forwarded-For / X-Forwarded-Proto count; from anyone else those headers are ignored.
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import t from 'tap';
import WebSocket from 'ws';
import { loadConfig, validateConfig } from '../../cloud-lite/config.js';
import { SUBPROTOCOL as PROTOCOL } from '../../protocol/index.js';
import { startTestHub } from './fixtures/test-hub.js';
import { type RentalHub, startRentalHub } from './rental/helpers/rental-hub.js';

const PASSWORD = 'correct horse battery';

function sessionIps(hub: RentalHub): string[] {
  const db = new Database(path.join(hub.dir, 'hub.db'), { readonly: true });
  try {
    return (
      db.prepare('SELECT ip FROM sessions ORDER BY created_at').all() as { ip: string }[]
    ).map((r) => r.ip);
  } finally {
    db.close();
  }
}

/** Registers a@example.test (and confirms) with the headers an https proxy adds for 203.0.113.7. */
function registerViaProxy(hub: RentalHub) {
  return hub.register('a@example.test', PASSWORD, {
    'x-forwarded-proto': 'https',
    'x-forwarded-for': '203.0.113.7',
  });
}

/** 20 failed logins (unknown accounts) "from" `from`, then a good login "from" `other`. */
async function loginAfterFailuresFrom(hub: RentalHub, from: string, other: string) {
  const { email } = await hub.renter();
  for (let i = 0; i < 20; i++) {
    const r = await hub.api(
      'POST',
      '/api/auth/login',
      { login: `nobody-${i}@example.test`, password: 'wrong password!' },
      null,
      { 'x-forwarded-for': from },
    );
    if (r.status !== 401) throw new Error(`failure ${i}: ${r.status}`);
  }
  const same = await hub.api(
    'POST',
    '/api/auth/login',
    { login: email, password: PASSWORD },
    null,
    {
      'x-forwarded-for': from,
    },
  );
  const fromOther = await hub.api(
    'POST',
    '/api/auth/login',
    { login: email, password: PASSWORD },
    null,
    { 'x-forwarded-for': other },
  );
  return { same: same.status, other: fromOther.status };
}

t.test('config: trustProxy takes addresses, CIDRs and names; anything else is named', async (t) => {
  const base = { adminToken: 'a'.repeat(20) };
  t.same(validateConfig(base).trustProxy, [], 'default: trust nobody');
  t.same(
    validateConfig({ ...base, trustProxy: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'loopback'] })
      .trustProxy,
    ['127.0.0.1', '10.0.0.0/8', 'fd00::/8', 'loopback'],
  );
  t.same(
    loadConfig({
      env: { CLOUD_LITE_ADMIN_TOKEN: 'a'.repeat(20), CLOUD_LITE_TRUST_PROXY: '127.0.0.1, ::1' },
    }).trustProxy,
    ['127.0.0.1', '::1'],
    'environment: a comma-separated list',
  );
  for (const bad of ['proxy.example', '10.0.0.0/33', '::1/129', '1.2.3.4/8/1', '300.1.1.1']) {
    t.throws(
      () => validateConfig({ ...base, trustProxy: [bad] }),
      { code: 'ECONFIG', message: new RegExp(`"trustProxy".*"${bad.replace(/\./g, '\\.')}"`) },
      bad,
    );
  }
  t.throws(() => validateConfig({ ...base, trustProxy: '127.0.0.1' }), {
    code: 'ECONFIG',
    message: /"trustProxy"/,
  });
});

t.test('without trustProxy, X-Forwarded-* are ignored', async (t) => {
  const hub = await startRentalHub(t);
  const reg = await registerViaProxy(hub);
  t.equal(reg.status, 201);
  t.notMatch(reg.headers.get('set-cookie'), /Secure/, 'plain http: no Secure cookie');
  t.same(sessionIps(hub), ['127.0.0.1'], 'the socket address is the client');
  t.same(
    await loginAfterFailuresFrom(hub, '203.0.113.7', '203.0.113.8'),
    { same: 429, other: 429 },
    'a forged X-Forwarded-For does not escape the per-address throttle',
  );
});

t.test('a proxy not in trustProxy cannot set the client address or scheme', async (t) => {
  const hub = await startRentalHub(t, { config: { trustProxy: ['10.0.0.0/8'] } });
  const reg = await registerViaProxy(hub);
  t.notMatch(reg.headers.get('set-cookie'), /Secure/);
  t.same(sessionIps(hub), ['127.0.0.1']);
});

t.test(
  'with trustProxy, the client address and scheme come from the proxy: Secure cookie, throttle per renter',
  async (t) => {
    const hub = await startRentalHub(t, { config: { trustProxy: ['127.0.0.1'] } });
    const reg = await registerViaProxy(hub);
    t.equal(reg.status, 201);
    t.match(reg.headers.get('set-cookie'), /; Secure/, 'https at the proxy: Secure cookie');
    const login = await hub.api(
      'POST',
      '/api/auth/login',
      { login: 'a@example.test', password: PASSWORD },
      null,
      { 'x-forwarded-proto': 'http', 'x-forwarded-for': '203.0.113.9' },
    );
    t.notMatch(login.headers.get('set-cookie'), /Secure/, 'plain http at the proxy: not Secure');
    t.same(sessionIps(hub), ['203.0.113.7', '203.0.113.9'], 'sessions record the renter');
    t.same(
      await loginAfterFailuresFrom(hub, '198.51.100.1', '198.51.100.2'),
      { same: 429, other: 200 },
      'one renter hitting the per-address limit does not block another behind the same proxy',
    );
  },
);

t.test(
  "a kiosk's failed WebSocket login is logged with the client's address: forwarded only by a trusted proxy",
  async (t) => {
    const lines: { msg?: string; remote?: string }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (s: string) => void lines.push(JSON.parse(s)) },
    );
    const failedFrom = async (trustProxy: string[]) => {
      lines.length = 0;
      const hub = await startTestHub(t, { trustProxy }, { logger });
      const ws = new WebSocket(hub.wsUrl, PROTOCOL, {
        headers: {
          authorization: `Basic ${Buffer.from('k-none:wrong-secret').toString('base64')}`,
          'x-forwarded-for': '203.0.113.9',
        },
      });
      const status = await new Promise<number>((resolve) => {
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => resolve(-1));
      });
      t.equal(status, 401);
      await hub.server.stop();
      return lines.find((l) => l.msg === 'kiosk authentication failed')?.remote;
    };
    t.equal(await failedFrom(['loopback']), '203.0.113.9', 'behind a trusted proxy');
    t.equal(await failedFrom([]), '127.0.0.1', 'X-Forwarded-For from anyone else is ignored');
  },
);
