import { randomUUID } from 'node:crypto';
import t from 'tap';
import { verifyCommand } from '../../../protocol/index.js';
import { hubStores } from '../../helpers/postgres.js';
import { loadedSlot } from './helpers/loaded-slot.js';
import { CARD, DAY_MS, startRentalHub, waitFor } from './helpers/rental-hub.js';

const order = (kioskId: string, extra: Record<string, unknown> = {}) => ({
  kioskId,
  diskTypeId: 't64',
  writeProtect: true,
  days: 2,
  card: { useSaved: true },
  ...extra,
});

// The rental flows run on every hub store: SQLite, and PostgreSQL when a server is available
// (always in CI: DISK_KIOSK_FULL_TESTS=1; test/helpers/postgres.ts).
const stores = await hubStores(t);

for (const store of stores) {
  t.test(
    `1st to 3rd: session, order, signed Dispense, taken -> captured, rental open; return elsewhere closes it (${store.kind})`,
    async (t) => {
      const hub = await startRentalHub(t, { config: await store.config() });
      await hub.seedCatalog();
      const k1 = await hub.kiosk('k1');
      const k2 = await hub.kiosk('k2', { lat: 52.53, lng: 13.41, slots: [] });
      const me = await hub.renter();

      let s = await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token);
      t.equal(s.status, 200);
      t.equal(s.body.canRent, false);
      t.same(s.body.reasons, ['NO_DEPOSIT']);
      const dep = await hub.deposit(me.token, 5000);
      t.equal(dep.status, 200, JSON.stringify(dep.body));
      t.equal(dep.body.deposit.heldMinor, 5000);
      s = await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token);
      t.equal(s.body.canRent, true);
      t.same(
        s.body.diskTypes.map((d: { id: string; available: number; contentTitle: string }) => [
          d.id,
          d.available,
          d.contentTitle,
        ]),
        [['t64', 2, 'Films']],
      );

      const key = randomUUID();
      const created = await hub.api('POST', '/api/orders', order('k1'), me.token, {
        'idempotency-key': key,
      });
      t.equal(created.status, 201, JSON.stringify(created.body));
      const o = created.body.order;
      t.equal(o.amountMinor, 400);
      const cmd = await k1.waitForCommand((c) => c.action === 'Dispense');
      t.equal(cmd.payload.orderId, o.id);
      t.equal(cmd.payload.writeProtect, true);
      const pub = (await hub.api('GET', '/api/hub/public-key')).body as string;
      const v = verifyCommand(pub, 'k1', 'Dispense', cmd.payload);
      t.ok(v.ok, 'Dispense is signed by the hub');
      const mid = await hub.api('GET', `/api/orders/${o.id}`, undefined, me.token);
      t.equal(mid.body.order.state, 'dispensing', 'no capture before the kiosk reports');
      t.equal(
        (await hub.sandbox.payments()).find((p) => p.amountMinor === 400)?.state,
        'authorised',
        'authorised, not captured',
      );

      await k1.sendEvent('DispenseCompleted', {
        commandId: cmd.payload.commandId,
        orderId: o.id,
        slot: cmd.payload.slot as number,
        diskId: cmd.payload.diskId as string,
        outcome: 'taken',
      });
      const done = await hub.waitOrder(me.token, o.id, (x) => x.state === 'completed');
      t.ok(done.rentalId);
      t.same(
        done.steps.map((x: { state: string }) => x.state),
        ['created', 'authorised', 'dispensing', 'dispensing', 'completed'],
      );
      const ledger = await hub.sandbox.ledger();
      t.equal(
        ledger.filter((e) => e.op === 'capture').length,
        2,
        'deposit capture + order capture',
      );
      let rentals = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body;
      t.equal(rentals.length, 1);
      t.equal(rentals[0].state, 'open');
      t.same(
        rentals[0].charges.map((c: { kind: string; amountMinor: number }) => [
          c.kind,
          c.amountMinor,
        ]),
        [['rental', 400]],
      );
      t.equal(Date.parse(rentals[0].dueAt) - Date.parse(rentals[0].startedAt), 2 * DAY_MS);

      s = await hub.api('POST', '/api/kiosks/k1/session', undefined, me.token);
      t.equal(s.body.diskTypes[0].available, 1, 'the dispensed disk is no longer offered');

      // Extend by one day (saved card), then return at another kiosk.
      const ext = await hub.api(
        'POST',
        `/api/rentals/${rentals[0].id}/extend`,
        { days: 1 },
        me.token,
      );
      t.equal(ext.status, 200, JSON.stringify(ext.body));
      t.equal(Date.parse(ext.body.rental.dueAt) - Date.parse(rentals[0].dueAt), DAY_MS);
      t.same(
        ext.body.rental.charges.map((c: { kind: string }) => c.kind),
        ['rental', 'extension'],
      );

      await k2.sendEvent('DiskReturned', {
        slot: 1,
        diskId: cmd.payload.diskId as string,
        identityValid: true,
        writeProtected: true,
      });
      rentals = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body;
      t.equal(rentals[0].state, 'returned');
      t.equal(rentals[0].returnKioskId, 'k2');
      t.equal(rentals[0].totalMinor, 600);

      const audit = await hub.admin('GET', '/api/operator/audit?limit=500');
      const actions = audit.body.audit.map((a: { action: string }) => a.action);
      for (const a of [
        'order.created',
        'dispense.taken',
        'payment.captured',
        'rental.opened',
        'rental.returned',
        'kiosk.session',
      ])
        t.ok(actions.includes(a), `audit has ${a}`);
      t.ok(
        audit.body.audit.some(
          (a: { action: string; kioskId: string }) =>
            a.action === 'rental.returned' && a.kioskId === 'k2',
        ),
      );

      const refund = await hub.api('POST', '/api/me/deposit/refund', undefined, me.token);
      t.equal(refund.status, 200, JSON.stringify(refund.body));
      t.equal(refund.body.deposit.heldMinor, 0);
      t.ok((await hub.sandbox.ledger()).some((e) => e.op === 'refund' && e.amountMinor === 5000));
    },
  );

  t.test(
    `4th and 5th: reservation near a place, PrepareDisk, progress, ready, pickup, taken -> captured (${store.kind})`,
    async (t) => {
      const hub = await startRentalHub(t, { config: await store.config() });
      await hub.seedCatalog();
      const far = await hub.kiosk('far', { lat: 48.1, lng: 11.6, slots: [] });
      const near = await hub.kiosk('near', {
        lat: 52.52,
        lng: 13.4,
        slots: [loadedSlot(3, 'near-d9')],
      });
      void far;
      const me = await hub.renter();
      await hub.deposit(me.token);
      const list = await hub.api('GET', '/api/kiosks?near=52.5,13.4');
      t.same(
        list.body.map((k: { id: string }) => k.id),
        ['near', 'far'],
      );
      t.ok(
        list.body[0].distanceMeters > 2000 && list.body[0].distanceMeters < 2400,
        `haversine ${list.body[0].distanceMeters}`,
      );
      t.same(list.body[0].available, [{ diskTypeId: 't64', count: 0, reservable: 1 }]);
      t.same(list.body[1].available, [{ diskTypeId: 't64', count: 0, reservable: 0 }]);

      const res = await hub.api(
        'POST',
        '/api/reservations',
        order('near', { card: CARD }),
        me.token,
        { 'idempotency-key': randomUUID() },
      );
      t.equal(res.status, 201, JSON.stringify(res.body));
      const r = res.body.reservation;
      t.equal(r.state, 'preparing');
      const prep = await near.waitForCommand((c) => c.action === 'PrepareDisk');
      t.equal(prep.payload.reservationId, r.id);
      t.equal(prep.payload.contentId, 'c1');
      t.equal(prep.payload.minCapacityBytes, 64e9);
      const base = { commandId: prep.payload.commandId, reservationId: r.id, slot: 3 };
      await near.sendEvent('PrepareProgress', {
        ...base,
        step: 'copying',
        bytesDone: 5e9,
        bytesTotal: 10e9,
        filesDone: 5,
        filesTotal: 10,
        rateBps: 1e8,
        etaSeconds: 50,
      });
      let got = (await hub.api('GET', `/api/reservations/${r.id}`, undefined, me.token)).body
        .reservation;
      t.same(got.progress, {
        step: 'copying',
        bytesDone: 5e9,
        bytesTotal: 10e9,
        percent: 55, // copying is 35-75% of the whole preparation (prepare-progress.ts)
        etaSeconds: 50,
      });
      await near.sendEvent('PrepareCompleted', {
        ...base,
        diskId: 'near-d9',
        contentId: 'c1',
        contentVersion: 'v1',
        holdUntil: new Date(Date.now() + DAY_MS).toISOString(),
      });
      got = (await hub.api('GET', `/api/reservations/${r.id}`, undefined, me.token)).body
        .reservation;
      t.equal(got.state, 'ready');
      t.equal(got.slot, 3);

      const s = await hub.api('POST', '/api/kiosks/near/session', undefined, me.token);
      t.same(
        s.body.reservations.map((x: { id: string; state: string }) => [x.id, x.state]),
        [[r.id, 'ready']],
      );
      const pick = await hub.api('POST', `/api/reservations/${r.id}/pickup`, undefined, me.token);
      t.equal(pick.status, 200, JSON.stringify(pick.body));
      const disp = await near.waitForCommand((c) => c.action === 'Dispense');
      t.equal(disp.payload.reservationId, r.id);
      t.equal(disp.payload.slot, 3);
      t.equal(disp.payload.diskId, 'near-d9');
      t.equal(
        (await hub.sandbox.payments()).filter((p) => p.capturedMinor > 0).length,
        1,
        'only the deposit captured so far',
      );
      await near.sendEvent('DispenseCompleted', {
        commandId: disp.payload.commandId,
        orderId: pick.body.order.id,
        reservationId: r.id,
        slot: 3,
        diskId: 'near-d9',
        outcome: 'taken',
      });
      const o = await hub.waitOrder(me.token, pick.body.order.id, (x) => x.state === 'completed');
      t.ok(o.rentalId);
      got = (await hub.api('GET', `/api/reservations/${r.id}`, undefined, me.token)).body
        .reservation;
      t.equal(got.state, 'picked_up');
      const rsvPay = (await hub.sandbox.payments()).find((p) => p.amountMinor === 400)!;
      t.equal(rsvPay.state, 'captured');
      t.equal(rsvPay.captures, 1);
    },
  );
}

t.test(
  '5th failing: PrepareFailed cancels and voids; a kiosk that cannot prepare in time too; hold expiry takes the no-show fee',
  async (t) => {
    const hub = await startRentalHub(t, {
      rental: { prepareDeadlineSeconds: 60, holdWindowSeconds: 3600, noShowFeeMinor: 150 },
    });
    await hub.seedCatalog();
    const k = await hub.kiosk('k1', { slots: [loadedSlot(2, 'dc')] });
    const me = await hub.renter();
    await hub.deposit(me.token);
    const reserve = () =>
      hub.api('POST', '/api/reservations', order('k1'), me.token, {
        'idempotency-key': randomUUID(),
      });

    const a = (await reserve()).body.reservation;
    const prepA = await k.waitForCommand(
      (c) => c.action === 'PrepareDisk' && c.payload.reservationId === a.id,
    );
    await k.sendEvent('PrepareFailed', {
      commandId: prepA.payload.commandId,
      reservationId: a.id,
      code: 'EVERIFY',
      reason: 'hash mismatch',
    });
    const failed = await hub.waitReservation(me.token, a.id, (x) => x.state === 'failed');
    t.match(failed.failureReason, /PREPARE_FAILED: EVERIFY/);
    await waitFor(
      'void of reservation A',
      async () => (await sandboxPayment(a.id))?.state === 'voided',
    );

    // B: the kiosk never prepares; the deadline passes.
    const b = (await reserve()).body.reservation;
    await k.waitForCommand((c) => c.action === 'PrepareDisk' && c.payload.reservationId === b.id);
    hub.clock.advance(61_000);
    await hub.server.rental.reconciliation.runOnce();
    const timedOut = await hub.waitReservation(me.token, b.id, (x) => x.state === 'failed');
    t.equal(timedOut.failureReason, 'PREPARE_TIMEOUT');
    await k.waitForCommand(
      (c) => c.action === 'CancelReservation' && c.payload.reservationId === b.id,
    );
    await waitFor(
      'void of reservation B',
      async () => (await sandboxPayment(b.id))?.state === 'voided',
    );

    // C: ready, never picked up: the hold expires, the fee is captured, the rest released.
    const c = (await reserve()).body.reservation;
    const prepC = await k.waitForCommand(
      (x) => x.action === 'PrepareDisk' && x.payload.reservationId === c.id,
    );
    await k.sendEvent('PrepareCompleted', {
      commandId: prepC.payload.commandId,
      reservationId: c.id,
      slot: 2,
      diskId: 'dc',
      contentId: 'c1',
      contentVersion: 'v1',
      holdUntil: new Date().toISOString(),
    });
    await hub.waitReservation(me.token, c.id, (x) => x.state === 'ready');
    hub.clock.advance(3601_000);
    await hub.server.rental.reconciliation.runOnce();
    const expired = await hub.waitReservation(me.token, c.id, (x) => x.state === 'expired');
    t.same(
      expired.fees.map((f: { kind: string; amountMinor: number }) => [f.kind, f.amountMinor]),
      [['reservation_no_show', 150]],
    );
    await k.waitForCommand(
      (x) => x.action === 'CancelReservation' && x.payload.reservationId === c.id,
    );
    const pc = await waitFor('fee capture', async () => {
      const q = await sandboxPayment(c.id);
      return q?.state === 'captured' ? q : undefined;
    });
    t.equal(pc.capturedMinor, 150, 'only the fee is taken; the rest of the 400 is released');

    async function sandboxPayment(reservationId: string) {
      const ref = await hub.server.store.transaction(
        async (tx) => (await tx.reservations.get(reservationId))!.paymentId!,
      );
      return (await hub.sandbox.payments()).find((x) => x.reference === ref);
    }
  },
);

t.test(
  'overdue fees accrue per day up to the cap, then the lost-disk charge comes from the deposit',
  async (t) => {
    const hub = await startRentalHub(t, {
      rental: {
        overdueFeePerDayMinor: 100,
        overdueMaxDays: 3,
        lostDiskChargeMinor: 1500,
        minDepositMinor: 1000,
        // One disk out stays within the limit: the reasons asserted are the overdue disk's.
        maxOpenRentals: 2,
      },
    });
    await hub.seedCatalog();
    const k = await hub.kiosk('k1');
    const me = await hub.renter();
    await hub.deposit(me.token, 3000);
    const o = (
      await hub.api('POST', '/api/orders', order('k1', { days: 1 }), me.token, {
        'idempotency-key': randomUUID(),
      })
    ).body.order;
    const cmd = await k.waitForCommand((c) => c.action === 'Dispense');
    await k.sendEvent('DispenseCompleted', {
      commandId: cmd.payload.commandId,
      orderId: o.id,
      slot: 1,
      diskId: 'k1-d1',
      outcome: 'taken',
    });
    await hub.waitOrder(me.token, o.id, (x) => x.state === 'completed');

    hub.clock.advance(DAY_MS + 3600_000); // 1 h overdue -> day 1
    await hub.server.rental.reconciliation.runOnce();
    let me2 = (await hub.api('GET', '/api/me', undefined, me.token)).body;
    t.equal(me2.deposit.heldMinor, 2900);
    t.same(me2.reasons, ['OVERDUE_RENTAL']);
    t.equal(me2.canRent, false);
    const refused = await hub.api('POST', '/api/orders', order('k1'), me.token, {
      'idempotency-key': randomUUID(),
    });
    t.equal(refused.status, 403);
    t.equal(refused.body.error.code, 'NOT_ALLOWED');
    t.same(refused.body.error.reasons, ['OVERDUE_RENTAL']);

    hub.clock.advance(DAY_MS);
    await hub.server.rental.reconciliation.runOnce();
    await hub.server.rental.reconciliation.runOnce(); // idempotent: no double charge
    me2 = (await hub.api('GET', '/api/me', undefined, me.token)).body;
    t.equal(me2.deposit.heldMinor, 2800);

    hub.clock.advance(3 * DAY_MS); // 5 days overdue: past the 3-day cap -> lost
    await hub.server.rental.reconciliation.runOnce();
    me2 = (await hub.api('GET', '/api/me', undefined, me.token)).body;
    t.equal(me2.deposit.heldMinor, 3000 - 300 - 1500);
    t.ok(me2.reasons.includes('LOST_DISK'));
    let rentals = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body;
    t.equal(rentals[0].state, 'lost');
    t.same(
      rentals[0].charges.map((c: { kind: string; amountMinor: number }) => [c.kind, c.amountMinor]),
      [
        ['rental', 200],
        ['overdue', 100],
        ['overdue', 100],
        ['overdue', 100],
        ['lost', 1500],
      ],
    );
    // Found and returned after all: the lost charge goes back on the deposit; overdue fees stay.
    await k.sendEvent('DiskReturned', {
      slot: 1,
      diskId: 'k1-d1',
      identityValid: true,
      writeProtected: false,
    });
    rentals = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body;
    t.equal(rentals[0].state, 'returned');
    me2 = (await hub.api('GET', '/api/me', undefined, me.token)).body;
    t.equal(me2.deposit.heldMinor, 2700);
    t.equal(me2.canRent, true);
  },
);

t.test(
  'live stream: GET /api/orders/:id/events streams order updates until terminal',
  async (t) => {
    const hub = await startRentalHub(t);
    await hub.seedCatalog();
    const k = await hub.kiosk('k1');
    const me = await hub.renter();
    await hub.deposit(me.token);
    const o = (
      await hub.api('POST', '/api/orders', order('k1'), me.token, {
        'idempotency-key': randomUUID(),
      })
    ).body.order;
    const res = await fetch(`${hub.baseUrl}/api/orders/${o.id}/events`, {
      headers: { authorization: `Bearer ${me.token}` },
    });
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /text\/event-stream/);
    const cmd = await k.waitForCommand((c) => c.action === 'Dispense');
    await k.sendEvent('DispenseCompleted', {
      commandId: cmd.payload.commandId,
      orderId: o.id,
      slot: 1,
      diskId: 'k1-d1',
      outcome: 'not_taken',
    });
    const text = await res.text(); // ends when the order is terminal
    const states = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!).order.state);
    t.equal(states[0], 'dispensing');
    t.equal(states.at(-1), 'failed');
  },
);
