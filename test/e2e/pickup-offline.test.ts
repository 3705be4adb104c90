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
