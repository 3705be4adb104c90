// Pickup codes on the keypad (issue 24): kioskd on simulated hardware with a simulated keypad,
// codes armed by a signed ArmPickupCode from the test hub, typed with and without the hub.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { SimKeypad } from '../../../hal/keypad/index.js';
import type { CodeVerdict } from '../../../kiosk/pickup/code-check.js';
import type { EntryEvent } from '../../../kiosk/pickup/keypad-entry.js';
import { type ArmPickupCodeRequest, hashPickupCode, signCommand } from '../../../protocol/index.js';
import { KIOSK_ID, type Rig, startRig, type Tap } from '../daemon/harness.js';

/** Test cost (2^12): the rules, not the hardness, are under test here. */
const COST = { N: 4096, r: 8, p: 1 };

async function keypadRig(t: Tap) {
  const keypad = new SimKeypad();
  const rig = await startRig(t, { deps: { devices: { keypad } } });
  return { rig, keypad };
}

async function arm(
  rig: Rig,
  o: { slot: number; reservationId: string; code: string; expiresInMs?: number; kioskId?: string },
) {
  const codeExpiresAt = new Date(Date.now() + (o.expiresInMs ?? 3600_000)).toISOString();
  const codeHash = await hashPickupCode(
    o.code,
    { kioskId: o.kioskId ?? KIOSK_ID, slot: o.slot, reservationId: o.reservationId, codeExpiresAt },
    COST,
  );
  const p = signCommand(
    rig.keys.privateKeyPem,
    KIOSK_ID,
    'ArmPickupCode',
    {
      commandId: randomUUID(),
      reservationId: o.reservationId,
      slot: o.slot,
      diskId: `disk-${o.slot}`,
      writeProtect: true,
      pickupWindowSeconds: 5,
      codeExpiresAt,
      codeHash,
    },
    { ttlMs: Math.max(1000, o.expiresInMs ?? 3600_000) },
  ) as ArmPickupCodeRequest;
  return rig.hub.call('ArmPickupCode', p);
}

/** Types `code` and resolves with the verdict the keypad entry reached. */
function typeCode(rig: Rig, keypad: SimKeypad, code: string): Promise<CodeVerdict> {
  const entry = rig.daemon.pickup!.entry;
  return new Promise((resolve) => {
    const on = (e: EntryEvent) => {
      if (e.kind !== 'verdict') return;
      entry.off('entry', on);
      resolve(e.verdict);
    };
    entry.on('entry', on);
    keypad.type(code);
  });
}

function outboxTypes(rig: Rig): string[] {
  return (
    rig.daemon.db.prepare('SELECT type FROM outbox ORDER BY seq').all() as { type: string }[]
  ).map((r) => r.type);
}

t.test(
  'offline: the right code dispenses the reserved slot; settled when the link returns',
  async (t) => {
    const { rig, keypad } = await keypadRig(t);
    const reservationId = `rsv-${randomUUID()}`;
    rig.stock(2, { reservationId });
    t.same(await arm(rig, { slot: 2, reservationId, code: '12345678' }), { status: 'Accepted' });
    const holdUntil = (
      rig.daemon.db
        .prepare('SELECT hold_until FROM reservations WHERE reservation_id = ?')
        .get(reservationId) as { hold_until: string }
    ).hold_until;
    t.ok(Date.parse(holdUntil) > Date.now() + 3500_000, "the kiosk's hold now ends with the code");
    const sentBefore = rig.hub.events.length;
    await rig.hub.close(); // the link is down
    const verdict = await typeCode(rig, keypad, '12345678');
    t.match(verdict, { accepted: true, slot: 2, reservationId });
    t.equal(rig.daemon.slots.get(2).state, 'dispensing');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (rig.sim.sensors(2).present && !rig.sim.sensors(2).seated) {
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    rig.sim.takeDisk(2);
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (rig.daemon.slots.get(2).state === 'empty') {
          clearInterval(poll);
          resolve();
        }
      }, 10);
    });
    t.equal(rig.sim.ejectCount(2), 1, 'one push');
    t.equal(rig.hub.events.length, sentBefore, 'nothing reached the hub while offline');
    const types = outboxTypes(rig);
    t.ok(
      types.indexOf('PickupCodeAccepted') < types.indexOf('DispenseCompleted'),
      'PickupCodeAccepted, then DispenseCompleted, waiting in the outbox',
    );
    await rig.hub.start(); // the link returns
    await rig.until(
      'DispenseCompleted delivered',
      () => rig.eventsOf('DispenseCompleted').length === 1,
    );
    const [accepted] = rig.eventsOf('PickupCodeAccepted');
    const [done] = rig.eventsOf('DispenseCompleted');
    t.match(accepted, { reservationId, slot: 2, diskId: 'disk-2' });
    t.match(done, { commandId: accepted.commandId, reservationId, outcome: 'taken', slot: 2 });
    t.notOk('orderId' in done, 'the kiosk does not invent an order id');

    const again = await typeCode(rig, keypad, '12345678');
    t.match(again, { accepted: false, reason: 'used', reservationId }, 'a code works once');
    t.equal(rig.sim.ejectCount(2), 1, 'the replay pushed nothing');
  },
);

t.test(
  'wrong codes: five tries, then a lockout (persisted) that refuses even the right code',
  async (t) => {
    const { rig, keypad } = await keypadRig(t);
    const reservationId = `rsv-${randomUUID()}`;
    rig.stock(1, { reservationId });
    await arm(rig, { slot: 1, reservationId, code: '24682468' });
    for (let i = 1; i <= 4; i++)
      t.match(await typeCode(rig, keypad, '00000000'), { reason: 'wrong', failures: i });
    const fifth = await typeCode(rig, keypad, '11111111');
    t.match(fifth, { accepted: false, reason: 'wrong', lockedUntil: String });
    const lockedUntil = (fifth as { lockedUntil: string }).lockedUntil;
    t.ok(Date.parse(lockedUntil) - Date.now() > 20_000, 'locked for about 30 s');
    const right = await typeCode(rig, keypad, '24682468');
    t.match(right, { accepted: false, reason: 'locked', lockedUntil });
    t.equal(rig.daemon.slots.get(1).state, 'reserved', 'nothing dispensed while locked');
    const row = rig.daemon.db
      .prepare('SELECT failures, lockouts, locked_until FROM pickup_throttle WHERE id = 1')
      .get();
    t.same(row, { failures: 0, lockouts: 1, locked_until: lockedUntil }, 'in SQLite');
    await rig.until('refusals reported', () => rig.eventsOf('PickupCodeRefused').length === 5);
    const refused = rig.eventsOf('PickupCodeRefused');
    t.same(
      refused.map((e) => e.reason),
      ['wrong', 'wrong', 'wrong', 'wrong', 'wrong'],
      'each wrong code reported; the lockout once, with the wrong code that caused it',
    );
    t.equal(refused[4].lockedUntil, lockedUntil);
    t.same(await typeCode(rig, keypad, '24682468'), right, 'typing on while locked: no new event');
    t.equal(rig.eventsOf('PickupCodeRefused').length, 5);
  },
);

t.test('a code armed for another kiosk, slot or expiry matches nothing', async (t) => {
  const { rig, keypad } = await keypadRig(t);
  const reservationId = `rsv-${randomUUID()}`;
  rig.stock(3, { reservationId });
  t.same(await arm(rig, { slot: 3, reservationId, code: '31415926', kioskId: 'kiosk-other' }), {
    status: 'Accepted',
  });
  t.match(await typeCode(rig, keypad, '31415926'), { accepted: false, reason: 'wrong' });
  t.equal(rig.daemon.slots.get(3).state, 'reserved');
  // The stored hash moved to another expiry (a tampered row) no longer matches either.
  t.same(await arm(rig, { slot: 3, reservationId, code: '27182818' }), { status: 'Accepted' });
  rig.daemon.db
    .prepare('UPDATE pickup_codes SET expires_at = ? WHERE reservation_id = ?')
    .run(new Date(Date.now() + 7200_000).toISOString(), reservationId);
  t.match(await typeCode(rig, keypad, '27182818'), { accepted: false, reason: 'wrong' });
});

t.test('an expired hold refuses its code', async (t) => {
  const { rig, keypad } = await keypadRig(t);
  const reservationId = `rsv-${randomUUID()}`;
  rig.stock(1, { reservationId });
  t.same(await arm(rig, { slot: 1, reservationId, code: '55554444', expiresInMs: 1200 }), {
    status: 'Accepted',
  });
  const expiresAt = Date.parse(rig.daemon.pickup!.codes.get(reservationId)!.expiresAt);
  await rig.until('the hold ended', () => rig.daemon.clock.now().getTime() > expiresAt + 50);
  t.match(await typeCode(rig, keypad, '55554444'), {
    accepted: false,
    reason: 'expired',
    reservationId,
  });
  t.equal(rig.sim.ejectCount(1), 0);
  t.match(
    await arm(rig, { slot: 1, reservationId, code: '55554444', expiresInMs: -1000 }),
    { status: 'Rejected', reason: /hold ended/ },
    'an ArmPickupCode for a hold that already ended is refused',
  );
});

t.test('a technician holding the slot, or a cancelled reservation, refuses the code', async (t) => {
  const { rig, keypad } = await keypadRig(t);
  const held = `rsv-${randomUUID()}`;
  const cancelled = `rsv-${randomUUID()}`;
  rig.stock(1, { reservationId: held });
  rig.stock(2, { reservationId: cancelled });
  await arm(rig, { slot: 1, reservationId: held, code: '10203040' });
  await arm(rig, { slot: 2, reservationId: cancelled, code: '50607080' });
  t.same(await rig.hub.call('DisableSlot', { commandId: randomUUID(), slot: 1 }), {
    status: 'Accepted',
  });
  t.match(await typeCode(rig, keypad, '10203040'), {
    accepted: false,
    reason: 'slot_unavailable',
    reservationId: held,
  });
  t.same(
    await rig.hub.call('CancelReservation', { commandId: randomUUID(), reservationId: cancelled }),
    { status: 'Accepted' },
  );
  t.match(await typeCode(rig, keypad, '50607080'), {
    accepted: false,
    reason: 'cancelled',
    reservationId: cancelled,
  });
  t.equal(rig.sim.ejectCount(1) + rig.sim.ejectCount(2), 0, 'nothing pushed');
  t.equal(rig.daemon.pickup!.throttle.state().failures, 0, 'known codes do not count as guesses');
});

t.test(
  'with the slot board away the code is refused, not spent; it works once the board is back',
  async (t) => {
    const { rig, keypad } = await keypadRig(t);
    const reservationId = `rsv-${randomUUID()}`;
    rig.stock(2, { reservationId });
    await arm(rig, { slot: 2, reservationId, code: '86427531' });
    const board = rig.daemon.hardware.board as { connected: boolean };
    board.connected = false; // the USB-serial adapter is away (the driver reconnects on its own)
    t.match(await typeCode(rig, keypad, '86427531'), {
      accepted: false,
      reason: 'slot_unavailable',
      reservationId,
      detail: /slot board is not connected/,
    });
    t.equal(rig.daemon.pickup!.codes.get(reservationId)?.state, 'armed', 'the code is not spent');
    t.equal(rig.daemon.slots.get(2).state, 'reserved');
    t.equal(rig.daemon.pickup!.throttle.state().failures, 0, 'not counted as a guess');
    board.connected = true;
    t.match(await typeCode(rig, keypad, '86427531'), { accepted: true, slot: 2, reservationId });
    await rig.until('pushed out', () => rig.sim.ejectCount(2) === 1);
  },
);

t.test('ArmPickupCode for a slot not held for that reservation is rejected', async (t) => {
  const { rig } = await keypadRig(t);
  rig.stock(1);
  t.match(await arm(rig, { slot: 1, reservationId: 'rsv-x', code: '12121212' }), {
    status: 'Rejected',
    reason: /not held for reservation rsv-x/,
  });
});
