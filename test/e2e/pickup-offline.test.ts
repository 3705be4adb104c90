// Offline pickup with a code on the keypad (issue 24's proof), over REAL processes: cloud-lite
// and kioskd as children, the kiosk's link through the fleet-sim TCP proxy. Reserve, prepare,
// cut the link, type the code (the keypad simulator; and kioskd's REAL keypad driver reading a
// FIFO fed with input_event records), disk pushed and taken, a replay refused, link restored ->
// the hub opens the pickup order, captures exactly once, and the rental starts at the kiosk's
// time of the take (not when the events arrived). Teardown stops every process.
import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  hubEventsOf,
  type KeypadKind,
  outboxOf,
  startPickupFleet,
  takeWhenPushed,
} from './fixtures/pickup-fleet.js';

t.setTimeout(300_000);

for (const keypad of ['sim', 'fifo'] as KeypadKind[]) {
  const what = keypad === 'sim' ? 'the keypad simulator' : 'the REAL keypad driver on a FIFO';
  t.test(`offline pickup typed on ${what}: captured once when the link returns`, async (t) => {
    const f = await startPickupFleet(t, { keypad });
    const k = f.kiosks[0]!;
    const { id, slot, code } = await f.reserveReady(k);
    t.match(code, /^[0-9]{8}$/, 'the renter sees an 8-digit code');
    const connected = readFileSync(k.kiosk.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('keypad connected'))
      .map((l) => JSON.parse(l).keypad);
    if (keypad === 'fifo')
      t.match(
        connected,
        [{ connected: true, grabbed: false, device: f.keypadDevice(k), note: /ENOTTY/ }],
        "kioskd's real driver reads the FIFO (which cannot be grabbed)",
      );
    else t.match(connected, [{ connected: true, device: 'sim' }], 'the simulated keypad');

    await f.cut(k);
    const cutAt = Date.now();
    await f.type(k, code);
    await takeWhenPushed(f, k, slot);
    await f.until(
      'the kiosk settled the dispense',
      () => f.kiosk(k, "SELECT 1 FROM slots WHERE slot = ? AND state = 'empty'", slot).length === 1,
    );
    t.equal(k.kiosk.sim.ejectCount(slot), 1, 'one push, with no hub');
    const [accepted] = outboxOf(f, k, 'PickupCodeAccepted');
    t.match(accepted, { reservationId: id, slot }, 'PickupCodeAccepted waits in the outbox');
    t.match(outboxOf(f, k, 'DispenseCompleted'), [
      { commandId: accepted.commandId, reservationId: id, outcome: 'taken' },
    ]);
    t.equal(hubEventsOf(f, k, 'PickupCodeAccepted').length, 0, 'nothing reached the hub');
    t.equal((await f.reservation(id)).state, 'ready', 'the hub still holds the reservation');

    // A replay of the used code: refused at the kiosk, nothing pushed.
    await f.type(k, code);
    await f.until('the replay refused', () =>
      outboxOf(f, k, 'PickupCodeRefused').some((e) => e.reason === 'used'),
    );
    t.equal(k.kiosk.sim.ejectCount(slot), 1, 'the replay pushed nothing');

    const healAt = Date.now();
    await f.heal(k);
    const r = await f.until('the reservation picked up', async () => {
      const x = await f.reservation(id);
      return x.state === 'picked_up' ? x : undefined;
    });
    const order = await f.until('the pickup order completed', async () => {
      const o = (
        await f.world.hub.api.ok('GET', `/api/orders/${r.orderId}`, undefined, { token: f.token })
      ).order;
      return o.state === 'completed' ? o : undefined;
    });
    await f.until('the outbox drained', () => f.kiosk(k, 'SELECT 1 FROM outbox').length === 0);

    const completed = hubEventsOf(f, k, 'DispenseCompleted').filter(
      (e) => e.data.commandId === accepted.commandId,
    );
    t.equal(completed.length, 1, 'one DispenseCompleted at the hub');
    t.equal(hubEventsOf(f, k, 'PickupCodeAccepted').length, 1, 'one PickupCodeAccepted');
    t.match(
      hubEventsOf(f, k, 'PickupCodeRefused').map((e) => e.data),
      [{ reason: 'used', reservationId: id }],
      'the replay reported',
    );
    const orders = f.hub('SELECT id, command_id FROM orders WHERE reservation_id = ?', id);
    t.same(
      orders,
      [{ id: order.id, command_id: accepted.commandId }],
      "one order, the kiosk's command",
    );
    const pay = f.hub(
      'SELECT p.state, p.provider_ref, s.captures FROM payments p JOIN reservations r ON r.payment_id = p.id LEFT JOIN sandbox_payments s ON s.id = p.provider_ref WHERE r.id = ?',
      id,
    );
    t.match(pay, [{ state: 'captured', captures: 1 }], 'captured exactly once (hub and provider)');
    t.equal(
      f.hub(
        "SELECT count(*) AS n FROM sandbox_ledger WHERE op = 'capture' AND payment_id = ?",
        pay[0]?.provider_ref,
      )[0]!.n,
      1,
      "one capture of the reservation's payment in the provider's ledger",
    );
    const rentals = (await f.world.hub.api.ok('GET', '/api/me/rentals', undefined, {
      token: f.token,
    })) as Array<{
      id: string;
      startedAt: string;
      dueAt: string;
    }>;
    const rental = rentals.find((x) => x.id === order.rentalId);
    t.ok(rental, 'the rental is open');
    t.equal(
      rental?.startedAt,
      completed[0]!.at,
      "the rental starts at the kiosk's time of the take",
    );
    const started = Date.parse(rental!.startedAt);
    t.ok(
      started >= cutAt - 1000 && started < healAt,
      'while the link was down, not when it came back',
    );
    t.equal(Date.parse(rental!.dueAt) - started, 86_400_000, 'due one day after the take');
  });
}

// kioskd SIGKILLed right after the code was accepted (`recorded`: the code used, the Dispense in
// the inbox, the slot `dispensing`, nothing pushed yet) or right after the push (`ejected`; the
// renter takes the disk while kioskd is down), with the link cut: restarted, it settles the
// dispense by the sensors, never pushing again: one DispenseCompleted, and the hub charges only
// a disk that was taken, once.
for (const step of ['recorded', 'ejected'] as const) {
  t.test(
    `kioskd SIGKILLed at "${step}" after an offline code: one push at most, one event`,
    async (t) => {
      const f = await startPickupFleet(t, {
        keypad: 'sim',
        kioskEnv: { KIOSKD_TEST_HOOKS: '1', KIOSKD_TEST_CRASH_AT: step },
      });
      const k = f.kiosks[0]!;
      const { id, slot, code } = await f.reserveReady(k);
      await f.cut(k);
      await f.type(k, code);
      await f.until('kioskd killed itself', () => !k.kiosk.running());
      t.equal(k.kiosk.proc?.signalCode, 'SIGKILL');
      const [accepted] = outboxOf(f, k, 'PickupCodeAccepted');
      t.match(
        accepted,
        { reservationId: id, slot },
        'the acceptance was committed before the kill',
      );
      if (step === 'ejected') {
        t.equal(k.kiosk.sim.ejectCount(slot), 1, 'pushed once before the kill');
        t.ok(k.kiosk.sim.grabDisk(slot), 'the renter takes the disk while kioskd is down');
      } else t.equal(k.kiosk.sim.ejectCount(slot), 0, 'killed before the push');
      k.kiosk.respawn();
      await f.until('the dispense settled after the restart', () =>
        outboxOf(f, k, 'DispenseCompleted').length > 0 ? true : undefined,
      );
      const want = step === 'ejected' ? 'taken' : 'failed';
      t.match(outboxOf(f, k, 'DispenseCompleted'), [
        { commandId: accepted.commandId, reservationId: id, outcome: want },
      ]);
      // The renter tries the code again: it worked once already. (The restarted kioskd may
      // settle the dispense before its keypad listens: typing waits for the keypad.)
      await f.until('the keypad takes the code after the restart', () =>
        f.type(k, code).then(
          () => true,
          (err: NodeJS.ErrnoException) =>
            err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? undefined : Promise.reject(err),
        ),
      );
      await f.until('the retry refused', () =>
        outboxOf(f, k, 'PickupCodeRefused').some((e) => e.reason === 'used'),
      );
      await f.heal(k);
      await f.until('the outbox drained', () => f.kiosk(k, 'SELECT 1 FROM outbox').length === 0);
      t.equal(k.kiosk.sim.ejectCount(slot), step === 'ejected' ? 1 : 0, 'never pushed twice');
      const completed = hubEventsOf(f, k, 'DispenseCompleted');
      t.equal(completed.length, 1, 'one DispenseCompleted at the hub');
      t.equal(completed[0]?.data.outcome, want);
      const orders = await f.until('the pickup order ended', () => {
        const o = f.hub('SELECT id, state, command_id FROM orders WHERE reservation_id = ?', id);
        return o.length === 1 && ['completed', 'failed'].includes(String(o[0]!.state))
          ? o
          : undefined;
      });
      t.match(orders, [
        { state: step === 'ejected' ? 'completed' : 'failed', command_id: accepted.commandId },
      ]);
      const pay = await f.until('the payment settled', () => {
        const p = f.hub(
          'SELECT p.state, s.captures FROM payments p JOIN reservations r ON r.payment_id = p.id LEFT JOIN sandbox_payments s ON s.id = p.provider_ref WHERE r.id = ?',
          id,
        );
        return ['captured', 'voided'].includes(String(p[0]?.state)) ? p : undefined;
      });
      if (step === 'ejected') t.match(pay, [{ state: 'captured', captures: 1 }], 'captured once');
      else t.match(pay, [{ state: 'voided', captures: 0 }], 'nothing taken: released, not charged');
      t.equal(
        f.kiosk(k, "SELECT count(*) AS n FROM inbox WHERE state IN ('received', 'executing')")[0]!
          .n,
        0,
        'no command left unfinished at the kiosk',
      );
    },
  );
}
