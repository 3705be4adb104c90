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
    t.equal(reg.status, 202, 'register only sends a link');
    t.equal(reg.headers.get('set-cookie'), null, 'no session before the link is opened');
    const sent = hub.mail.at(-1)!;
    t.same(
      [sent.kind, sent.to],
      ['confirm-registration', { email: 'ann@example.test', phone: null }],
    );
    const confirmed = await hub.api('POST', '/api/auth/register/confirm', {
      token: sent.kind === 'confirm-registration' ? sent.link.split('#')[1] : '',
    });
    t.equal(confirmed.status, 201);
    t.same(confirmed.body.user, {
      id: confirmed.body.user.id,
      email: 'ann@example.test',
      phone: null,
      name: 'Ann',
      role: 'renter',
    });
    t.match(confirmed.headers.get('set-cookie'), /dk_session=.+; HttpOnly; SameSite=Strict/);
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
        (s) =>
          s.token_hash.length === 32 && !s.token_hash.toString().includes(confirmed.body.token),
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
      (await hub.api('GET', '/api/me', undefined, confirmed.body.token)).status,
      200,
      'other sessions stay valid',
    );
  },
);
