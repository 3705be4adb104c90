// The update lock: jobs hold it; the updater waits until none does, then refuses new ones
// (hold: EUPDATING) or keeps them waiting (acquire) until it lets go.
import t from 'tap';
import { UpdateLock } from '../../../kiosk/update/update-lock.js';

t.test('the updater waits for every holder, reporting who holds it', async (t) => {
  const lock = new UpdateLock();
  const dispense = lock.hold('dispense slot 1');
  const wipe = lock.hold('wipe slot 2');
  const seen: string[][] = [];
  let taken = false;
  const taking = lock.take('installing version 2', { onWait: (h) => seen.push(h) }).then((r) => {
    taken = true;
    return r;
  });
  await new Promise((r) => setImmediate(r));
  t.notOk(taken, 'not while two jobs hold it');
  t.same(seen.at(-1), ['dispense slot 1', 'wipe slot 2']);
  dispense();
  dispense(); // idempotent
  await new Promise((r) => setImmediate(r));
  t.notOk(taken, 'not while the wipe runs');
  t.same(seen.at(-1), ['wipe slot 2']);
  wipe();
  const release = await taking;
  t.ok(taken);
  t.equal(lock.updating, 'installing version 2');
  t.throws(() => lock.hold('dispense slot 3'), {
    code: 'EUPDATING',
    message: /dispense slot 3 refused: the kiosk is installing version 2/,
  });
  let got = false;
  const waiting = lock.acquire('prepare r1').then((r) => {
    got = true;
    return r;
  });
  await new Promise((r) => setImmediate(r));
  t.notOk(got, 'background work waits while the update owns the lock');
  release();
  const r2 = await waiting;
  t.ok(got, 'and runs once it lets go');
  t.same(lock.held, ['prepare r1']);
  r2();
  t.same(lock.held, []);
});

t.test('take stops waiting when aborted; acquire gives up when the lock closes', async (t) => {
  const lock = new UpdateLock();
  const job = lock.hold('clone slot 1 by tech');
  const ac = new AbortController();
  const taking = lock.take('installing', { signal: ac.signal });
  ac.abort();
  await t.rejects(taking, { code: 'EABORTED' });
  t.equal(lock.updating, null, 'not taken');
  job();
  const own = lock.takeNow('on trial of version 3');
  const aborted = new AbortController();
  aborted.abort();
  const noop = await lock.acquire('check slot 2', aborted.signal);
  t.same(lock.held, [], 'an aborted acquire holds nothing');
  noop();
  const pending = lock.acquire('wipe slot 4');
  lock.close();
  await t.rejects(pending, { code: 'EABORTED', message: /wipe slot 4: kioskd is stopping/ });
  own();
});
