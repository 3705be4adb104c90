// Login throttles: counted before the password check (parallel guesses cannot outrun them),
// per (account, address) so a guesser cannot lock the owner out, with a high per-account
// ceiling and a per-address limit. Client addresses come from X-Forwarded-For (trustProxy).
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { type RentalHub, startRentalHub } from './helpers/rental-hub.js';

const RIGHT = 'correct horse battery';

function login(hub: RentalHub, email: string, password: string, from = '198.51.100.1') {
  return hub.api('POST', '/api/auth/login', { login: email, password }, null, {
    'x-forwarded-for': from,
  });
}

function failedLogins(hub: RentalHub): number {
  const db = new Database(path.join(hub.dir, 'hub.db'), { readonly: true });
  try {
    return (
      db.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'login.failed'").get() as {
        n: number;
      }
    ).n;
  } finally {
    db.close();
  }
}

t.test(
  '30 guesses sent at once: only 5 are checked, the right one among the rest is refused',
  async (t) => {
    const hub = await startRentalHub(t, { config: { trustProxy: ['127.0.0.1'] } });
    const { email } = await hub.renter();
    const guesses = Array.from({ length: 30 }, (_, i) => (i === 27 ? RIGHT : `wrong guess ${i}!`));
    const answers = await Promise.all(guesses.map((g) => login(hub, email, g)));
    const statuses = answers.map((a) => a.status);
    t.equal(statuses.filter((s) => s === 429).length, 25, '25 refused before any password check');
    t.equal(statuses.filter((s) => s === 401).length + statuses.filter((s) => s === 200).length, 5);
    t.ok(
      answers
        .filter((a) => a.status === 429)
        .every((a) => a.body.error.code === 'TOO_MANY_ATTEMPTS'),
    );
    if (statuses[27] === 429) {
      t.equal(statuses.filter((s) => s === 200).length, 0, 'the right password was not checked');
      t.equal(failedLogins(hub), 5, 'five passwords were checked');
    }
    const after = await login(hub, email, RIGHT);
    t.equal(after.status, statuses[27] === 200 ? 200 : 429, 'still locked for this address');
  },
);

t.test('a guesser does not lock the owner out from another address', async (t) => {
  const hub = await startRentalHub(t, { config: { trustProxy: ['127.0.0.1'] } });
  const { email } = await hub.renter();
  for (let i = 0; i < 5; i++) {
    const r = await login(hub, email, 'wrong password!', '203.0.113.66');
    t.same([r.status, r.body.error.code], [401, 'INVALID_CREDENTIALS']);
  }
  const attacker = await login(hub, email, RIGHT, '203.0.113.66');
  t.same([attacker.status, attacker.body.error.code], [429, 'TOO_MANY_ATTEMPTS']);
  t.ok(attacker.body.error.retryAfterSeconds > 800 && attacker.body.error.retryAfterSeconds <= 900);
  t.equal(attacker.headers.get('retry-after'), String(attacker.body.error.retryAfterSeconds));
  const owner = await login(hub, email, RIGHT, '198.51.100.7');
  t.equal(owner.status, 200, 'the owner logs in from their own address');
  const unknown = await login(hub, 'nobody@example.test', 'wrong password!', '198.51.100.7');
  t.same(
    [unknown.status, unknown.body.error.code],
    [401, 'INVALID_CREDENTIALS'],
    'unknown user: the same answer',
  );
  hub.clock.advance(15 * 60 * 1000 + 1000);
  t.equal((await login(hub, email, RIGHT, '203.0.113.66')).status, 200, 'the window passed');
});

t.test('good logins are not counted; a good login clears its address', async (t) => {
  const hub = await startRentalHub(t, { config: { trustProxy: ['127.0.0.1'] } });
  const { email } = await hub.renter();
  for (let i = 0; i < 4; i++) await login(hub, email, 'wrong password!');
  for (let i = 0; i < 8; i++) t.equal((await login(hub, email, RIGHT)).status, 200);
  for (let i = 0; i < 4; i++) t.equal((await login(hub, email, 'wrong password!')).status, 401);
  t.equal((await login(hub, email, RIGHT)).status, 200, '4 failures since the last good login');
});

t.test(
  'a per-account ceiling across addresses, and a per-address limit across accounts',
  async (t) => {
    const hub = await startRentalHub(t, {
      config: { trustProxy: ['127.0.0.1'] },
      rental: { loginMaxFailuresPerAccount: 8 },
    });
    const { email } = await hub.renter();
    for (let i = 0; i < 8; i++)
      t.equal((await login(hub, email, 'wrong password!', `203.0.113.${i + 1}`)).status, 401);
    t.equal((await login(hub, email, RIGHT, '198.51.100.9')).status, 429, 'the ceiling holds');
    const other = await hub.renter();
    for (let i = 0; i < 20; i++)
      await login(hub, `x${i}@example.test`, 'wrong password!', '192.0.2.50');
    t.equal(
      (await login(hub, other.email, RIGHT, '192.0.2.50')).status,
      429,
      '20 from one address',
    );
    t.equal((await login(hub, other.email, RIGHT, '192.0.2.51')).status, 200);
  },
);
