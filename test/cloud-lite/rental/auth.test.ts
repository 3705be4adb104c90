import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { startRentalHub } from './helpers/rental-hub.js';

t.test(
  'passwords: scrypt N=2^17 r=8 p=1 with a 16-byte salt; sessions stored hashed; logout',
  async (t) => {
    const hub = await startRentalHub(t, { rental: { scryptLog2N: 17 } });
    const reg = await hub.api('POST', '/api/auth/register', {
      email: 'Ann@Example.test',
      password: 'correct horse battery',
      name: 'Ann',
    });
    t.equal(reg.status, 201);
    t.same(reg.body.user, {
      id: reg.body.user.id,
      email: 'ann@example.test',
      phone: null,
      name: 'Ann',
      role: 'renter',
    });
    t.match(reg.headers.get('set-cookie'), /dk_session=.+; HttpOnly; SameSite=Strict/);
    const dup = await hub.api('POST', '/api/auth/register', {
      email: 'ann@example.test',
      password: 'correct horse battery',
    });
    t.equal(dup.body.error.code, 'EMAIL_TAKEN');
    const weak = await hub.api('POST', '/api/auth/register', {
      email: 'b@example.test',
      password: 'short',
    });
    t.same([weak.status, weak.body.error.code], [400, 'WEAK_PASSWORD']);
    const bad = await hub.api('POST', '/api/auth/register', {
      email: 'c@example.test',
      password: 'long enough pw',
      extra: 1,
    });
    t.same([bad.status, bad.body.error.code], [400, 'VALIDATION']);
    t.notMatch(JSON.stringify(bad.body), /at .*\.ts/, 'no stack trace');

    const db = new Database(path.join(hub.dir, 'hub.db'), { readonly: true });
    t.teardown(() => db.close());
    const { password_hash } = db
      .prepare('SELECT password_hash FROM users WHERE email = ?')
      .get('ann@example.test') as { password_hash: string };
    const [alg, N, r, p, salt, hash] = password_hash.split('$');
    t.same([alg, N, r, p], ['scrypt', '131072', '8', '1']);
    t.equal(Buffer.from(salt!, 'base64url').length, 16);
    t.equal(Buffer.from(hash!, 'base64url').length, 32);
    const sessions = db.prepare('SELECT token_hash FROM sessions').all() as {
      token_hash: Buffer;
    }[];
    t.ok(
      sessions.every(
        (s) => s.token_hash.length === 32 && !s.token_hash.toString().includes(reg.body.token),
      ),
    );

    const login = await hub.api('POST', '/api/auth/login', {
      login: 'ANN@example.test',
      password: 'correct horse battery',
    });
    t.equal(login.status, 200);
    t.equal((await hub.api('GET', '/api/me', undefined, login.body.token)).status, 200);
    t.equal((await hub.api('POST', '/api/auth/logout', undefined, login.body.token)).status, 204);
    t.equal((await hub.api('GET', '/api/me', undefined, login.body.token)).status, 401);
    t.equal(
      (await hub.api('GET', '/api/me', undefined, reg.body.token)).status,
      200,
      'other sessions stay valid',
    );
  },
);

t.test('login throttling: 5 failures per account, 20 per address, in 15 minutes', async (t) => {
  const hub = await startRentalHub(t);
  await hub.renter('a@example.test');
  for (let i = 0; i < 5; i++) {
    const r = await hub.api('POST', '/api/auth/login', {
      login: 'a@example.test',
      password: 'wrong password!',
    });
    t.same([r.status, r.body.error.code], [401, 'INVALID_CREDENTIALS']);
  }
  const unknown = await hub.api('POST', '/api/auth/login', {
    login: 'nobody@example.test',
    password: 'wrong password!',
  });
  t.same(
    [unknown.status, unknown.body.error.code],
    [401, 'INVALID_CREDENTIALS'],
    'unknown user: same answer',
  );
  const blocked = await hub.api('POST', '/api/auth/login', {
    login: 'a@example.test',
    password: 'correct horse battery',
  });
  t.equal(blocked.status, 429);
  t.equal(blocked.body.error.code, 'TOO_MANY_ATTEMPTS');
  t.ok(blocked.body.error.retryAfterSeconds > 800 && blocked.body.error.retryAfterSeconds <= 900);
  t.equal(blocked.headers.get('retry-after'), String(blocked.body.error.retryAfterSeconds));
  hub.clock.advance(15 * 60 * 1000 + 1000);
  const ok = await hub.api('POST', '/api/auth/login', {
    login: 'a@example.test',
    password: 'correct horse battery',
  });
  t.equal(ok.status, 200, 'the window passed');

  for (let i = 0; i < 20; i++)
    await hub.api('POST', '/api/auth/login', {
      login: `x${i}@example.test`,
      password: 'wrong password!',
    });
  const ipBlocked = await hub.api('POST', '/api/auth/login', {
    login: 'a@example.test',
    password: 'correct horse battery',
  });
  t.equal(ipBlocked.status, 429, 'the address made 20 failures');
});
