// The store contract of the alert repository (one live alert per dedupe key, acknowledge and
// resolve once, the webhook outbox) and of the notification repository (sent once, opt-outs),
// run against every store kind (store-kinds.ts).
import t from 'tap';
import type { RaiseInput, Store, Tx } from '../../../../cloud-lite/store/types.js';
import { storeKinds } from './store-kinds.js';

const kinds = await storeKinds(t);
const T0 = '2026-01-01T00:00:00.000Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const run = <T>(store: Store, fn: (tx: Tx) => Promise<T>) => store.transaction(fn);
const raise = (o: Partial<RaiseInput> = {}): RaiseInput => ({
  kind: 'kiosk_offline',
  dedupeKey: 'kiosk_offline:k1',
  kioskId: 'k1',
  severity: 'critical',
  message: 'k1 offline for 5 min',
  details: { minutes: 5 },
  at: T0,
  ...o,
});

for (const { kind, open } of kinds) {
  t.test(`${kind}: alerts`, async (t) => {
    const { store } = await open(t);
    const first = await run(store, (tx) => tx.alerts.raise(raise()));
    t.equal(first.created, true);
    t.match(first.alert, {
      kind: 'kiosk_offline',
      state: 'open',
      openedAt: T0,
      lastSeenAt: T0,
      details: { minutes: 5 },
      notifyCount: 0,
      acknowledgedBy: null,
    });
    t.equal(typeof first.alert.id, 'number');
    const again = await run(store, (tx) =>
      tx.alerts.raise(
        raise({ message: 'k1 offline for 9 min', details: { minutes: 9 }, at: at(240) }),
      ),
    );
    t.equal(again.created, false, 'the same cause does not open a second alert');
    t.equal(again.alert.id, first.alert.id);
    t.match(again.alert, { message: 'k1 offline for 9 min', openedAt: T0, lastSeenAt: at(240) });
    await run(store, (tx) =>
      tx.alerts.raise(raise({ kind: 'slot_fault', dedupeKey: 'slot_fault:k1:3' })),
    );
    t.equal(await run(store, (tx) => tx.alerts.countLive()), 2);
    t.same(
      (await run(store, (tx) => tx.alerts.listLive('slot_fault'))).map((a) => a.dedupeKey),
      ['slot_fault:k1:3'],
    );

    t.equal(
      await run(store, (tx) => tx.alerts.acknowledge(first.alert.id, 'user:op1', at(300))),
      true,
    );
    t.equal(
      await run(store, (tx) => tx.alerts.acknowledge(first.alert.id, 'user:op2', at(301))),
      false,
      'acknowledged once',
    );
    await run(store, (tx) => tx.alerts.markNotified(first.alert.id, at(302)));
    t.match(await run(store, (tx) => tx.alerts.live('kiosk_offline:k1')), {
      state: 'acknowledged',
      acknowledgedBy: 'user:op1',
      acknowledgedAt: at(300),
      notifiedAt: at(302),
      notifyCount: 1,
    });
    t.equal(
      await run(store, (tx) => tx.alerts.resolve(first.alert.id, 'system:alerts', at(400))),
      true,
    );
    t.equal(
      await run(store, (tx) => tx.alerts.resolve(first.alert.id, 'user:op1', at(401))),
      false,
    );
    t.equal(await run(store, (tx) => tx.alerts.live('kiosk_offline:k1')), undefined);
    const reopened = await run(store, (tx) => tx.alerts.raise(raise({ at: at(500) })));
    t.equal(reopened.created, true, 'a cause back after resolution opens a new alert');
    t.not(reopened.alert.id, first.alert.id);
    t.same(
      (await run(store, (tx) => tx.alerts.list(['resolved'], 10))).map((a) => [a.id, a.resolvedBy]),
      [[first.alert.id, 'system:alerts']],
    );
    t.same(
      (await run(store, (tx) => tx.alerts.list(['open', 'acknowledged', 'resolved'], 2))).map(
        (a) => a.id,
      ),
      [reopened.alert.id, first.alert.id + 1],
      'newest first, limited',
    );

    // The webhook outbox.
    await run(store, async (tx) => {
      await tx.alerts.enqueueDelivery({
        alertId: first.alert.id,
        event: 'opened',
        body: { a: 1 },
        at: T0,
      });
      await tx.alerts.enqueueDelivery({
        alertId: first.alert.id,
        event: 'resolved',
        body: { a: 2 },
        at: at(10),
      });
    });
    const due = await run(store, (tx) => tx.alerts.dueDeliveries(at(5), 10));
    t.same(
      due.map((d) => [d.event, d.body, d.attempts]),
      [['opened', { a: 1 }, 0]],
    );
    await run(store, (tx) =>
      tx.alerts.deliveryFailed(due[0]!.id, {
        attempts: 1,
        error: 'HTTP 500',
        nextAttemptAt: at(20),
        failedAt: null,
      }),
    );
    t.same(
      (await run(store, (tx) => tx.alerts.dueDeliveries(at(15), 10))).map((d) => d.event),
      ['resolved'],
      'a failed delivery waits for its next attempt',
    );
    await run(store, (tx) => tx.alerts.deliveryDone(due[0]!.id, at(21)));
    const all = await run(store, (tx) => tx.alerts.deliveries(first.alert.id));
    t.match(all[0], { attempts: 2, deliveredAt: at(21), lastError: 'HTTP 500' });
    await run(store, (tx) =>
      tx.alerts.deliveryFailed(all[1]!.id, {
        attempts: 8,
        error: 'gone',
        nextAttemptAt: at(30),
        failedAt: at(30),
      }),
    );
    t.same(await run(store, (tx) => tx.alerts.dueDeliveries(at(10_000), 10)), [], 'given up');
  });

  t.test(`${kind}: renter notifications sent once; opt-outs; account language`, async (t) => {
    const { store } = await open(t);
    await run(store, (tx) =>
      tx.users.insert({
        id: 'u1',
        email: 'u1@example.org',
        phone: null,
        name: 'u1',
        role: 'renter',
        passwordHash: 'h',
        cardToken: null,
        cardLast4: null,
        createdAt: T0,
      }),
    );
    t.equal((await run(store, (tx) => tx.users.get('u1')))?.language, null, 'no language yet');
    await run(store, (tx) => tx.users.update('u1', { language: 'zh-CN' }));
    t.equal((await run(store, (tx) => tx.users.get('u1')))?.language, 'zh-CN');
    const claim = { kind: 'due_tomorrow', subject: 'r1', userId: 'u1', at: T0 };
    t.equal(await run(store, (tx) => tx.notifications.claim(claim)), true);
    t.equal(await run(store, (tx) => tx.notifications.claim({ ...claim, at: at(1) })), false);
    t.equal(await run(store, (tx) => tx.notifications.wasSent('due_tomorrow', 'r1')), true);
    t.equal(await run(store, (tx) => tx.notifications.wasSent('overdue', 'r1')), false);
    await run(store, (tx) => tx.notifications.unclaim('due_tomorrow', 'r1'));
    t.equal(
      await run(store, (tx) => tx.notifications.claim(claim)),
      true,
      'claimable after unclaim',
    );
    t.equal(await run(store, (tx) => tx.notifications.optedOut('u1', 'overdue')), false);
    await run(store, (tx) => tx.notifications.optOut('u1', 'overdue', T0));
    await run(store, (tx) => tx.notifications.optOut('u1', 'overdue', at(1)));
    t.equal(await run(store, (tx) => tx.notifications.optedOut('u1', 'overdue')), true);
    t.equal(await run(store, (tx) => tx.notifications.optedOut('u1', 'due_tomorrow')), false);
    await run(store, (tx) => tx.notifications.optOut('u1', 'due_tomorrow', T0));
    t.same(await run(store, (tx) => tx.notifications.listOptOuts('u1')), [
      'due_tomorrow',
      'overdue',
    ]);
    await run(store, (tx) => tx.notifications.optIn('u1', 'overdue'));
    t.same(await run(store, (tx) => tx.notifications.listOptOuts('u1')), ['due_tomorrow']);

    // The outbox: queued once per kind and subject, due until delivered or given up.
    const q = { kind: 'receipt', subject: 'chg-1', userId: 'u1', at: at(5), payload: { a: 1 } };
    t.equal(await run(store, (tx) => tx.notifications.enqueue(q)), true);
    t.equal(await run(store, (tx) => tx.notifications.enqueue({ ...q, at: at(6) })), false);
    t.equal(
      await run(store, (tx) => tx.notifications.enqueue({ ...q, subject: 'chg-2', at: at(7) })),
      true,
    );
    t.same(await run(store, (tx) => tx.notifications.due(at(4), 10)), [], 'not due yet');
    const due = await run(store, (tx) => tx.notifications.due(at(7), 10));
    t.same(
      due.map((n) => n.subject),
      ['chg-1', 'chg-2'],
      'oldest first; the claim without payload is no mail',
    );
    t.match(due[0], { userId: 'u1', payload: { a: 1 }, attempts: 0, deliveredAt: null });
    await run(store, (tx) =>
      tx.notifications.attemptFailed('receipt', 'chg-1', {
        attempts: 1,
        error: '451 try later',
        nextAttemptAt: at(20),
        failedAt: null,
      }),
    );
    t.same(
      (await run(store, (tx) => tx.notifications.due(at(10), 10))).map((n) => n.subject),
      ['chg-2'],
    );
    await run(store, (tx) => tx.notifications.delivered('receipt', 'chg-1', at(21)));
    await run(store, (tx) =>
      tx.notifications.attemptFailed('receipt', 'chg-2', {
        attempts: 12,
        error: 'gone',
        nextAttemptAt: at(30),
        failedAt: at(22),
      }),
    );
    t.same(await run(store, (tx) => tx.notifications.due(at(10_000), 10)), []);
    t.match(await run(store, (tx) => tx.notifications.get('receipt', 'chg-1')), {
      attempts: 2,
      deliveredAt: at(21),
      lastError: '451 try later',
    });

    // Password reset tokens: single use.
    const reset = {
      tokenHash: 'h1',
      userId: 'u1',
      createdAt: T0,
      expiresAt: at(3600),
      usedAt: null,
    };
    await run(store, (tx) => tx.passwordResets.insert(reset));
    await run(store, (tx) => tx.passwordResets.insert({ ...reset, tokenHash: 'h2' }));
    t.same(await run(store, (tx) => tx.passwordResets.get('h1')), reset);
    t.equal(await run(store, (tx) => tx.passwordResets.use('h1', at(1))), true);
    t.equal(await run(store, (tx) => tx.passwordResets.use('h1', at(2))), false, 'used once');
    await run(store, (tx) => tx.passwordResets.useAllOf('u1', at(3)));
    t.equal((await run(store, (tx) => tx.passwordResets.get('h2')))?.usedAt, at(3));
    t.equal((await run(store, (tx) => tx.passwordResets.get('h1')))?.usedAt, at(1));
  });
}
