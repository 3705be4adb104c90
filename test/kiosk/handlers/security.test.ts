import { randomUUID, sign } from 'node:crypto';
import t from 'tap';
import { generateSigningKeyPair, signCommand, signedBytes } from '../../../protocol/index.js';
import { KIOSK_ID, startRig } from '../daemon/harness.js';

t.test('signed-command refusals: SecurityError CALLERROR + CommandRejected event', async (t) => {
  const rig = await startRig(t);
  const diskId = rig.stock(1);
  const base = {
    slot: 1,
    diskId,
    writeProtect: false,
    pickupWindowSeconds: 5,
  };
  const other = generateSigningKeyPair();
  const expectSecurity = async (name: string, payload: unknown, reason: RegExp) => {
    const err = (await rig.hub.call('Dispense', payload as never).then(
      () => null,
      (e: unknown) => e,
    )) as { code?: string; errorCode?: string; message?: string } | null;
    t.equal(err?.errorCode, 'SecurityError', `${name}: SecurityError`);
    t.match(err?.message, reason, `${name}: reason`);
  };
  await expectSecurity(
    'bad signature (other key)',
    signCommand(
      other.privateKeyPem,
      KIOSK_ID,
      'Dispense',
      { commandId: randomUUID(), ...base },
      { ttlMs: 60_000 },
    ),
    /signature/i,
  );
  await expectSecurity(
    'wrong kiosk',
    signCommand(
      rig.keys.privateKeyPem,
      'kiosk-other',
      'Dispense',
      { commandId: randomUUID(), ...base },
      { ttlMs: 60_000 },
    ),
    /kiosk/i,
  );
  await expectSecurity(
    'expired',
    signCommand(
      rig.keys.privateKeyPem,
      KIOSK_ID,
      'Dispense',
      { commandId: randomUUID(), ...base },
      { ttlMs: 1000, now: Date.now() - 3_600_000 },
    ),
    /expir/i,
  );
  await expectSecurity(
    'far-future expiry',
    signCommand(
      rig.keys.privateKeyPem,
      KIOSK_ID,
      'Dispense',
      { commandId: randomUUID(), ...base },
      { ttlMs: 3 * 3_600_000 },
    ),
    /more than 60 minutes ahead/,
  );
  const tampered = rig.dispense({ ...base });
  await expectSecurity('tampered payload', { ...tampered, slot: 2 }, /signature/i);

  // Replay: a second command (new commandId) carrying an already used nonce, validly signed.
  const nonce = 'AAAAAAAAAAAAAAAAAAAAAA';
  const expiresAt = new Date(Date.now() + 60_000).toISOString();
  const withNonce = (commandId: string) => {
    const payload = { commandId, ...base };
    const sig = sign(
      null,
      signedBytes('Dispense', KIOSK_ID, expiresAt, nonce, payload),
      rig.keys.privateKeyPem,
    ).toString('base64url');
    return { ...payload, signature: { kioskId: KIOSK_ID, expiresAt, nonce, sig } };
  };
  const firstUse = await rig.hub.call('Dispense', withNonce(randomUUID()) as never);
  t.equal(firstUse.status, 'Accepted', 'first use of the nonce is accepted');
  await rig.until('pickup position', () => !rig.sim.sensors(1).seated);
  rig.sim.takeDisk(1);
  await expectSecurity('replayed nonce', withNonce(randomUUID()), /nonce .* already used/);

  await rig.until('CommandRejected events', () => rig.eventsOf('CommandRejected').length === 6);
  for (const ev of rig.eventsOf('CommandRejected')) {
    t.match(ev, { action: 'Dispense', code: 'SecurityError' });
  }
  t.equal(rig.sim.ejectCount(1), 1, 'only the genuine command pushed');
});

t.test('malformed frames from the hub are answered and never crash kioskd', async (t) => {
  const rig = await startRig(t);
  const before = rig.hub.received.length;
  rig.hub.sendRaw('not json');
  rig.hub.sendRaw('[2,"m-1","Dispense",{"commandId":"x"}]');
  rig.hub.sendRaw('[2,"m-2","NoSuchAction",{}]');
  rig.hub.sendRaw(
    JSON.stringify([
      2,
      'm-3',
      'SetWriteProtect',
      { commandId: randomUUID(), slot: 'one', on: true },
    ]),
  );
  rig.hub.sendRaw('[2,"m-4","Dispense",{"__proto__":{"polluted":true}}]');
  await rig.until('CALLERRORs for the readable ids', () =>
    ['m-1', 'm-2', 'm-3', 'm-4'].every((id) =>
      rig.hub.received.slice(before).some((m) => m.startsWith(`[4,"${id}"`)),
    ),
  );
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  // Still alive and working.
  const diskId = rig.stock(2);
  t.same(await rig.hub.call('Dispense', rig.dispense({ slot: 2, diskId })), { status: 'Accepted' });
  t.equal(rig.daemon.inbox.get('x'), undefined, 'invalid commands were never recorded');
});
