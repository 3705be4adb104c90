// Offline pickup when kioskd is SIGKILLed mid-dispense, over REAL processes (cloud-lite and
// kioskd as children, the link through the fleet-sim TCP proxy; split from
// pickup-offline.test.ts so that neither file comes near its time limit on a loaded machine).
import t from 'tap';
import { hubEventsOf, outboxOf, startPickupFleet } from './fixtures/pickup-fleet.js';

t.setTimeout(300_000);

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
