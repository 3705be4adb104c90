import { createPrivateKey } from 'node:crypto';
import t from 'tap';
import {
  canonicalJson,
  encodeFrame,
  generateSigningKeyPair,
  parseFrame,
  signCommand,
  verifyCommand,
} from '../../protocol/index.js';

const keys = generateSigningKeyPair();
const other = generateSigningKeyPair();
const now = Date.parse('2025-03-01T12:00:00Z');
const base = {
  commandId: '0b6f6a5e-2f0e-4c43-9a64-0c3f8e4a1b2c',
  slot: 4,
  diskId: 'disk-9',
  writeProtect: true,
  pickupWindowSeconds: 90,
};
const signed = signCommand(keys.privateKeyPem, 'kiosk-7', 'Dispense', base, { ttlMs: 60_000, now });

t.test('canonicalJson sorts keys at every level and drops undefined', async (t) => {
  t.equal(
    canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: 'x' } }),
    '{"a":{"c":"x","d":[3,{"z":1}]},"b":1}',
  );
  t.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
  t.equal(canonicalJson([undefined, null, 'é']), '[null,null,"é"]');
});

t.test('a signed command verifies, and passes the Dispense schema', async (t) => {
  t.equal(signed.signature.kioskId, 'kiosk-7');
  t.equal(signed.signature.expiresAt, '2025-03-01T12:01:00.000Z');
  t.match(signed.signature.nonce, /^[A-Za-z0-9_-]{22}$/);
  const r = verifyCommand(keys.publicKeyPem, 'kiosk-7', 'Dispense', signed, { now: now + 1000 });
  t.same(r, { ok: true, nonce: signed.signature.nonce, expiresAt: signed.signature.expiresAt });
  // Through the wire and back: key order changes nothing.
  const parsed = parseFrame(
    encodeFrame({ type: 2, id: 'x', action: 'Dispense', payload: signed }),
    {
      direction: 'hubToKiosk',
    },
  );
  t.ok(parsed.ok, 'valid Dispense frame');
  const reordered = JSON.parse(JSON.stringify({ signature: signed.signature, ...base }));
  t.ok(verifyCommand(keys.publicKeyPem, 'kiosk-7', 'Dispense', reordered, { now }).ok);
  // KeyObject keys work too; a private key may be used to verify.
  t.ok(
    verifyCommand(createPrivateKey(keys.privateKeyPem), 'kiosk-7', 'Dispense', signed, { now }).ok,
  );
});

t.test('two signatures of the same payload use different nonces', async (t) => {
  const again = signCommand(keys.privateKeyPem, 'kiosk-7', 'Dispense', base, {
    ttlMs: 60_000,
    now,
  });
  t.not(again.signature.nonce, signed.signature.nonce);
});

t.test('a tampered payload fails', async (t) => {
  const tampered = { ...signed, slot: 5 };
  const r = verifyCommand(keys.publicKeyPem, 'kiosk-7', 'Dispense', tampered, { now });
  t.same(r, { ok: false, reason: 'signature does not match the command' });
  const added = { ...signed, orderId: 'ord-free' };
  t.equal(verifyCommand(keys.publicKeyPem, 'kiosk-7', 'Dispense', added, { now }).ok, false);
});

t.test('a different action fails (no replay across actions)', async (t) => {
  t.equal(verifyCommand(keys.publicKeyPem, 'kiosk-7', 'WipeDisk', signed, { now }).ok, false);
});

t.test('a command for another kiosk fails', async (t) => {
  const r = verifyCommand(keys.publicKeyPem, 'kiosk-8', 'Dispense', signed, { now });
  t.equal(r.ok, false);
  if (!r.ok) t.match(r.reason, /kiosk-7, not kiosk-8/);
  // Rewriting the kiosk id inside the signature breaks it.
  const moved = { ...signed, signature: { ...signed.signature, kioskId: 'kiosk-8' } };
  const m = verifyCommand(keys.publicKeyPem, 'kiosk-8', 'Dispense', moved, { now });
  t.equal(m.ok ? 'ok' : m.reason, 'signature does not match the command');
});

t.test('an expired command fails; skew is tolerated', async (t) => {
  const expires = now + 60_000;
  t.ok(
    verifyCommand(keys.publicKeyPem, 'kiosk-7', 'Dispense', signed, { now: expires + 29_000 }).ok,
  );
  const r = verifyCommand(keys.publicKeyPem, 'kiosk-7', 'Dispense', signed, {
    now: expires + 1,
    maxSkewMs: 0,
  });
  t.equal(r.ok, false);
  if (!r.ok) t.match(r.reason, /expired/);
  t.equal(
    verifyCommand(keys.publicKeyPem, 'kiosk-7', 'Dispense', signed, {
      now: new Date(expires + 31_000),
    }).ok,
    false,
  );
});

t.test('the wrong key fails', async (t) => {
  const r = verifyCommand(other.publicKeyPem, 'kiosk-7', 'Dispense', signed, { now });
  t.same(r, { ok: false, reason: 'signature does not match the command' });
});

t.test('malformed input never throws', async (t) => {
  const bad: unknown[] = [
    null,
    42,
    [],
    {},
    { ...base, signature: 'x' },
    { ...base, signature: { ...signed.signature, sig: 'short' } },
    { ...base, signature: { ...signed.signature, expiresAt: 'soon' } },
    { ...base, signature: { ...signed.signature, nonce: 7 } },
  ];
  for (const payload of bad) {
    const r = verifyCommand(keys.publicKeyPem, 'kiosk-7', 'Dispense', payload, { now });
    t.equal(r.ok, false, JSON.stringify(payload)?.slice(0, 60));
  }
  const r = verifyCommand('not a pem', 'kiosk-7', 'Dispense', signed, { now });
  t.equal(r.ok, false, 'garbage key');
  t.throws(
    () => signCommand(keys.publicKeyPem, 'k', 'Dispense', base, { ttlMs: 1 }),
    'public key cannot sign',
  );
});
