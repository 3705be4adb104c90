import t from 'tap';
import {
  BASE_LOCKOUT_MS,
  FREE_TRIES,
  MAX_LOCKOUT_MS,
  PickupThrottle,
} from '../../../kiosk/pickup/throttle.js';
import { openKit, tempDir } from '../fixtures/kit.js';

t.test('5 tries, then lockouts that double up to the cap; a restart keeps them', async (t) => {
  const dir = tempDir(t);
  let k = openKit(dir);
  let th = new PickupThrottle(k.db);
  const t0 = Date.parse('2026-06-01T12:00:00Z');
  let now = new Date(t0);
  for (let i = 1; i < FREE_TRIES; i++) t.equal(th.fail(now).failures, i);
  const first = th.fail(now);
  t.equal(first.lockedUntil, new Date(t0 + BASE_LOCKOUT_MS).toISOString(), '30 s');
  t.equal(th.lockedUntil(now), first.lockedUntil);

  k.db.close(); // kioskd restarts
  k = openKit(dir);
  t.teardown(() => k.db.close());
  th = new PickupThrottle(k.db);
  t.equal(th.lockedUntil(now), first.lockedUntil, 'still locked after a restart');

  now = new Date(t0 + BASE_LOCKOUT_MS);
  t.equal(th.lockedUntil(now), undefined, 'the lockout ends');
  for (let i = 1; i < FREE_TRIES; i++) th.fail(now);
  const second = th.fail(now);
  t.equal(Date.parse(second.lockedUntil!) - now.getTime(), 2 * BASE_LOCKOUT_MS, 'then 60 s');
  for (let n = 0; n < 20; n++) for (let i = 0; i < FREE_TRIES; i++) th.fail(now);
  t.equal(Date.parse(th.state().lockedUntil!) - now.getTime(), MAX_LOCKOUT_MS, 'capped at 1 h');
  th.reset(now);
  t.same(th.state(), { failures: 0, lockouts: 0, lockedUntil: null }, 'a right code resets');
});
