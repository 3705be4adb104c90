import { readFileSync } from 'node:fs';
import path from 'node:path';
// Registration tells nobody but the owner whether a login exists; it is limited per address;
// password hashing is queued so that other requests keep flowing.
import t from 'tap';
import { MANIFEST } from '../../../cloud-lite/http/routes/web-routes.js';
import { startWebHub } from '../web/web-hub.js';
import { startRentalHub, waitFor } from './helpers/rental-hub.js';

const PW = 'correct horse battery';

t.test(
  'register answers the same for a new and a taken e-mail; only the owner learns which',
  async (t) => {
    const hub = await startRentalHub(t);
    await hub.renter('taken@example.test');
    const mailBefore = hub.mail.length;
    const fresh = await hub.api('POST', '/api/auth/register', {
      email: 'fresh@example.test',
      password: PW,
    });
    const taken = await hub.api('POST', '/api/auth/register', {
      email: 'Taken@example.test',
      password: 'another good passphrase',
    });
    t.same([fresh.status, taken.status], [202, 202]);
    t.same(fresh.body, taken.body, 'the same body');
    t.same(
      [fresh.headers.get('set-cookie'), taken.headers.get('set-cookie')],
      [null, null],
      'no session either way',
    );
    t.notMatch(JSON.stringify(taken.body), /EMAIL_TAKEN|exists/);
    const [toFresh, toTaken] = hub.mail.slice(mailBefore);
    t.equal(toFresh?.kind, 'confirm-registration');
    t.same(toFresh?.to, { email: 'fresh@example.test', phone: null });
    t.equal(toTaken?.kind, 'already-registered', 'the owner of the taken e-mail is told');
    t.same(toTaken?.to, { email: 'taken@example.test', phone: null });

    // The owner's password did not change; the new registration's link works once.
    const owner = await hub.api('POST', '/api/auth/login', {
      login: 'taken@example.test',
      password: PW,
    });
    t.equal(owner.status, 200);
    const link = toFresh?.kind === 'confirm-registration' ? toFresh.link : '';
    t.match(
      link,
      /^http:\/\/127\.0\.0\.1:\d+\/register\/confirm#[A-Za-z0-9_-]{43}$/,
      'the token travels in the fragment',
    );
    const token = link.split('#')[1];
    const ok = await hub.api('POST', '/api/auth/register/confirm', { token });
    t.equal(ok.status, 201);
    t.equal(
      (await hub.api('GET', '/api/me', undefined, ok.body.token)).body.user.email,
      'fresh@example.test',
    );
    const again = await hub.api('POST', '/api/auth/register/confirm', { token });
    t.same([again.status, again.body.error.code], [400, 'REGISTRATION_INVALID'], 'used once only');
  },
);

t.test('a registration link expires; a login taken meanwhile is not taken twice', async (t) => {
  const hub = await startRentalHub(t, { rental: { registrationTtlSeconds: 3600 } });
  const tokenOf = () => {
    const m = hub.mail.at(-1);
    return m?.kind === 'confirm-registration' ? m.link.split('#')[1] : '';
  };
  await hub.api('POST', '/api/auth/register', { email: 'late@example.test', password: PW });
  const late = tokenOf();
  hub.clock.advance(3601 * 1000);
  const expired = await hub.api('POST', '/api/auth/register/confirm', { token: late });
  t.same([expired.status, expired.body.error.code], [400, 'REGISTRATION_INVALID']);

  await hub.api('POST', '/api/auth/register', { email: 'twice@example.test', password: PW });
  const first = tokenOf();
  await hub.api('POST', '/api/auth/register', { email: 'twice@example.test', password: PW });
  const second = tokenOf();
  t.equal((await hub.api('POST', '/api/auth/register/confirm', { token: second })).status, 201);
  const dup = await hub.api('POST', '/api/auth/register/confirm', { token: first });
  t.same([dup.status, dup.body.error.code], [400, 'REGISTRATION_INVALID']);
  const unknown = await hub.api('POST', '/api/auth/register/confirm', { token: 'x'.repeat(43) });
  t.equal(unknown.status, 400);
});

t.test('registrations are limited per client address', async (t) => {
  const hub = await startRentalHub(t, {
    config: { trustProxy: ['127.0.0.1'] },
    rental: { registerMaxPerAddress: 3 },
  });
  const from = (ip: string, i: number) =>
    hub.api('POST', '/api/auth/register', { email: `r${i}@example.test`, password: PW }, null, {
      'x-forwarded-for': ip,
    });
  const answers = await Promise.all([1, 2, 3, 4, 5].map((i) => from('203.0.113.5', i)));
  t.same(
    answers.map((a) => a.status).sort(),
    [202, 202, 202, 429, 429],
    'three at once pass, the rest wait',
  );
  const refused = answers.find((a) => a.status === 429)!;
  t.equal(refused.body.error.code, 'TOO_MANY_ATTEMPTS');
  t.ok(refused.body.error.retryAfterSeconds > 3500);
  t.equal((await from('203.0.113.6', 6)).status, 202, 'another address is not affected');
  hub.clock.advance(3601 * 1000);
  t.equal((await from('203.0.113.5', 7)).status, 202, 'the hour passed');
});

t.test(
  'password hashing is queued: a static file is served while 16 registrations hash',
  async (t) => {
    const hub = await startWebHub(t, {
      overrides: {
        rental: { scryptLog2N: 17, maxConcurrentHashes: 2, registerMaxPerAddress: 100 },
      } as never,
    });
    const hashes = hub.server.rental.accounts.hashes;
    const order: string[] = [];
    const regs = Array.from({ length: 16 }, (_, i) =>
      fetch(`${hub.baseUrl}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `p${i}@example.test`, password: PW }),
      }).then(async (r) => {
        order.push(`register ${r.status}`);
        await r.arrayBuffer();
      }),
    );
    await waitFor('the registrations to reach the hash queue', async () => hashes.pending >= 14);
    const { renter } = JSON.parse(readFileSync(path.join(hub.assetDir, MANIFEST), 'utf8'));
    const asset = await fetch(`${hub.baseUrl}/assets/${renter.js}`);
    await asset.arrayBuffer();
    const doneBeforeAsset = order.length;
    order.push('asset');
    await Promise.all(regs);
    t.equal(asset.status, 200);
    t.ok(
      doneBeforeAsset <= 4,
      `the asset came before most registrations (after ${doneBeforeAsset} of 16)`,
    );
    t.equal(hashes.peak, 2, 'never more than 2 hashes at once');
    t.same(
      order.filter((o) => o !== 'asset'),
      Array(16).fill('register 202'),
    );
  },
);

t.test('beyond the hash queue, login answers 503 BUSY at once', async (t) => {
  const hub = await startRentalHub(t, {
    rental: { scryptLog2N: 16, maxConcurrentHashes: 1, maxQueuedHashes: 1 },
  });
  const { email } = await hub.renter();
  const answers = await Promise.all(
    Array.from({ length: 5 }, () =>
      hub.api('POST', '/api/auth/login', { login: email, password: PW }),
    ),
  );
  t.same(
    answers.map((a) => a.status).sort(),
    [200, 200, 503, 503, 503],
    'the running and the queued one pass; the rest are refused at once',
  );
  const busy = answers.find((a) => a.status === 503)!;
  t.equal(busy.body.error.code, 'BUSY');
  t.equal(busy.headers.get('retry-after'), '2');
  t.equal(hub.server.rental.accounts.hashes.peak, 1);
  const again = await hub.api('POST', '/api/auth/login', { login: email, password: PW });
  t.equal(again.status, 200, 'a refused attempt is not counted against the account');
});
