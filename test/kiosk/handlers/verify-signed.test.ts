// The kiosk's expiry checks of a signed command (kiosk/handlers/verify-signed.ts checkSignature)
// by a fixed clock: an expiresAt as far ahead as its action allows is taken even when the
// kiosk's clock is a moment behind the hub's (the 30 s skew allowance, as after expiresAt):
// the hub signs an ApplyConfig for exactly 24 h, and a kiosk whose clock read a few ms behind
// refused it ("more than 1440 minutes ahead"; seen as a flaky e2e test). Beyond the allowance
// it is refused; an expired one too.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import type { CommandDeps } from '../../../kiosk/handlers/context.js';
import { checkSignature } from '../../../kiosk/handlers/verify-signed.js';
import { generateSigningKeyPair, signCommand } from '../../../protocol/index.js';

const keys = generateSigningKeyPair();
const T = Date.parse('2026-12-07T06:00:00.000Z');
const DAY = 24 * 3600_000;

/** checkSignature with the kiosk's clock at `kioskNow` for an ApplyConfig the hub signed at T. */
function check(ttlMs: number, kioskNow: number) {
  const payload = signCommand(
    keys.privateKeyPem,
    'k1',
    'ApplyConfig',
    { commandId: randomUUID(), version: 2, settings: {} },
    { ttlMs, now: T },
  );
  const deps = {
    kioskId: 'k1',
    hubPublicKeyPem: keys.publicKeyPem,
    clock: { now: () => new Date(kioskNow) },
  } as unknown as CommandDeps;
  return checkSignature(deps, 'ApplyConfig', payload);
}

t.test('as far ahead as allowed, by a kiosk clock a moment behind: taken', async (t) => {
  t.ok('nonce' in check(DAY, T), 'the same clock');
  t.ok('nonce' in check(DAY, T - 5), '5 ms behind (the flake)');
  t.ok('nonce' in check(DAY, T - 30_000), '30 s behind: the allowance');
});

t.test('beyond the allowance, or expired: refused', async (t) => {
  t.match(check(DAY, T - 30_001), { reason: /more than 1440 minutes ahead/ });
  t.match(check(DAY + 31_000, T), { reason: /more than 1440 minutes ahead/ });
  t.match(check(60_000, T + 60_000 + 30_001), { reason: /expir/i });
  t.ok('nonce' in check(60_000, T + 60_000 + 30_000), 'expired 30 s ago: the allowance');
});
