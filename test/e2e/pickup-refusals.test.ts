// Pickup codes refused over REAL processes (issue 24's proof, the negative cases the kioskd unit
// tests cannot show end to end): two kioskd children and cloud-lite, kiosk-1's link cut through
// its TCP proxy. A technician takes the reserved slot out of service with the real kioskctl
// (over kioskd's maintenance socket): the right code is refused, no guess counted. kiosk-2's
// code typed at kiosk-1 is wrong; five wrong codes lock the keypad, which then refuses even the
// right code. Nothing is pushed; when the link returns the hub records every refusal in its
// audit log, and nothing is charged or picked up.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { outboxOf, startPickupFleet, verdictsOf } from './fixtures/pickup-fleet.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
t.setTimeout(300_000);

t.test('technician, another kiosk, wrong codes, lockout: refused offline, reported', async (t) => {
  const f = await startPickupFleet(t, { keypad: 'sim', kiosks: 2, renters: 2 });
  const [k1, k2] = [f.kiosks[0]!, f.kiosks[1]!];
  const mine = await f.reserveReady(k1);
  const theirs = await f.reserveReady(k2, 1);
  await f.cut(k1);
  /** Types the `n`th code at kiosk-1; resolves with kioskd's verdict on it (its log). */
  const typed = async (code: string, n: number) => {
    await f.type(k1, code);
    await f.until(`verdict ${n}`, () => verdictsOf(k1).length >= n);
    return verdictsOf(k1)[n - 1];
  };

  // The technician's CLI, on the kiosk, with the hub unreachable.
  const ctl = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'bin/kioskctl.js'),
      '--socket',
      path.join(k1.kiosk.opts.dir, 'kioskd.sock'),
      'slot',
      'disable',
      String(mine.slot),
      '--reason',
      'e2e: a technician holds the slot',
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  );
  t.equal(ctl.status, 0, `kioskctl slot disable: ${ctl.stderr}`);
  t.match(await typed(mine.code, 1), { accepted: false, reason: 'slot_unavailable' });
  t.match(await typed(theirs.code, 2), { accepted: false, reason: 'wrong' }, "kiosk-2's code");
  for (let i = 3; i <= 5; i++) t.match(await typed('00000000', i), { reason: 'wrong' });
  const fifth = await typed('11111111', 6);
  t.match(fifth, { reason: 'wrong', lockedUntil: String }, 'the 5th wrong code locks');
  t.match(
    await typed(mine.code, 7),
    { accepted: false, reason: 'locked', lockedUntil: fifth.lockedUntil },
    'even the right code, while locked',
  );
  const refused = outboxOf(f, k1, 'PickupCodeRefused');
  t.match(
    refused,
    [
      { reason: 'slot_unavailable', reservationId: mine.id, failures: 0 },
      { reason: 'wrong', failures: 1 },
      { reason: 'wrong', failures: 2 },
      { reason: 'wrong', failures: 3 },
      { reason: 'wrong', failures: 4 },
      { reason: 'wrong', lockedUntil: fifth.lockedUntil },
    ],
    'waiting in the outbox: the technician hold counts no guess; the lockout reported once',
  );
  t.equal(refused.length, 6);
  t.equal(k1.kiosk.sim.ejectCount(mine.slot), 0, 'nothing pushed');
  t.equal(k2.kiosk.sim.ejectCount(theirs.slot), 0, 'nothing pushed at kiosk-2');
  t.same(
    f.kiosk(k1, 'SELECT failures, lockouts, locked_until FROM pickup_throttle'),
    [{ failures: 0, lockouts: 1, locked_until: fifth.lockedUntil }],
    'the lockout is in SQLite',
  );

  await f.heal(k1);
  await f.until('the outbox drained', () => f.kiosk(k1, 'SELECT 1 FROM outbox').length === 0);
  const audited = f
    .hub(
      "SELECT details FROM audit_log WHERE action = 'pickup_code.refused' AND kiosk_id = ? ORDER BY id",
      k1.id,
    )
    .map((r) => JSON.parse(String(r.details)).reason);
  t.same(
    audited,
    ['slot_unavailable', 'wrong', 'wrong', 'wrong', 'wrong', 'wrong'],
    'every refusal in the hub audit log',
  );
  t.equal(f.hub('SELECT count(*) AS n FROM orders')[0]!.n, 0, 'no pickup order opened');
  t.equal(
    f.hub(
      "SELECT count(*) AS n FROM sandbox_ledger l JOIN payments p ON p.provider_ref = l.payment_id WHERE l.op = 'capture' AND p.ref_id IN (?, ?)",
      mine.id,
      theirs.id,
    )[0]!.n,
    0,
    'no reservation payment captured',
  );
  t.equal((await f.reservation(theirs.id)).state, 'ready', "kiosk-2's reservation untouched");
});
