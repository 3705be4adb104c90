import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { signWebhook } from '../../../cloud-lite/rental/payments/webhook-signature.js';
import { HubTestKiosk } from '../../helpers/hub-test-kiosk.js';
import { type Gateway, sandboxGateway, stripeGateway } from './helpers/gateways.js';
import {
  type RentalHub,
  startRentalHub,
  type TestClock,
  WEBHOOK_SECRET,
  waitFor,
} from './helpers/rental-hub.js';

// Every invariant runs against the built-in sandbox and against the Stripe provider on the
// local Stripe stand-in.
const GATEWAYS: Record<string, (t: Test, clock: TestClock) => Promise<Gateway>> = {
  sandbox: async () => sandboxGateway(),
  stripe: stripeGateway,
};

function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

const body = (kioskId: string, card: unknown = { useSaved: true }) => ({
  kioskId,
  diskTypeId: 't64',
  writeProtect: false,
  days: 1,
  card,
});

/** Never a capture without a dispensed disk, never two captures, nothing left authorised. */
async function assertLedger(t: Test, hub: RentalHub, gw: Gateway, takenOrders: number) {
  await hub.server.rental.reconciliation.runOnce();
  const payments = await gw.payments();
  for (const p of payments) t.ok(p.captures <= 1, `payment ${p.id} captured at most once`);
  const orderCaptures = payments.filter((p) => p.amountMinor === 200 && p.state === 'captured');
  t.equal(orderCaptures.length, takenOrders, 'one capture per disk taken');
  t.same(
    payments.filter((p) => p.state === 'authorised').map((p) => p.id),
    [],
    'every authorisation ends captured or voided',
  );
}

async function startHub(t: Test, gwName: string, opts: Parameters<typeof startRentalHub>[1] = {}) {
  const clock = opts.clock ?? testClock();
  const gw = await GATEWAYS[gwName]!(t, clock);
  const hub = await startRentalHub(t, {
    ...opts,
    clock,
    ...(gw.provider ? { provider: gw.provider } : {}),
    payWith: gw.pay.approve,
  });
  gw.bind(hub.server.rental.provider);
  return { hub, gw };
}

async function setup(t: Test, gwName: string, rental: Record<string, unknown> = {}) {
  const { hub, gw } = await startHub(t, gwName, { rental });
  await hub.seedCatalog();
  const k = await hub.kiosk('k1');
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  return { hub, gw, k, me };
}

for (const gwName of Object.keys(GATEWAYS)) {
  t.test(gwName, async (t) => {
    t.test('same Idempotency-Key: one order, one authorisation; another body: 409', async (t) => {
      const { hub, gw, k, me } = await setup(t, gwName);
      const key = randomUUID();
      const [a, b] = await Promise.all([
        hub.api('POST', '/api/orders', body('k1'), me.token, { 'idempotency-key': key }),
        hub.api('POST', '/api/orders', body('k1'), me.token, { 'idempotency-key': key }),
      ]);
      t.same([a.status, b.status].sort(), [200, 201]);
      t.equal(a.body.order.id, b.body.order.id);
      const c = await hub.api('POST', '/api/orders', body('k1'), me.token, {
        'idempotency-key': key,
      });
      t.equal(c.status, 200);
      t.equal(c.body.order.id, a.body.order.id);
      const d = await hub.api('POST', '/api/orders', { ...body('k1'), days: 2 }, me.token, {
        'idempotency-key': key,
      });
      t.equal(d.status, 409);
      t.equal(d.body.error.code, 'IDEMPOTENCY_MISMATCH');
      const missing = await hub.api('POST', '/api/orders', body('k1'), me.token);
      t.equal(missing.status, 400);
      t.equal((await gw.authorisations()).filter((a) => a === 200).length, 1);
      await k.waitForCommand((x) => x.action === 'Dispense');
      t.equal(k.commands.filter((x) => x.action === 'Dispense').length, 1, 'one Dispense');
    });

    t.test(
      'declined and timed-out cards: no capture, the timed-out authorisation is voided',
      async (t) => {
        const { hub, gw, me } = await setup(t, gwName);
        const key = randomUUID();
        const declined = await hub.api(
          'POST',
          '/api/orders',
          body('k1', gw.pay.decline),
          me.token,
          { 'idempotency-key': key },
        );
        t.equal(declined.status, 402);
        t.equal(declined.body.error.code, 'CARD_DECLINED');
        const again = await hub.api('POST', '/api/orders', body('k1', gw.pay.decline), me.token, {
          'idempotency-key': key,
        });
        t.equal(again.body.error.code, 'CARD_DECLINED', 'a replay answers the same refusal');
        const poor = await hub.api('POST', '/api/orders', body('k1', gw.pay.poor), me.token, {
          'idempotency-key': randomUUID(),
        });
        t.equal(poor.body.error.code, 'INSUFFICIENT_FUNDS');
        // The authorisation is made, but its answer is lost (the crash between authorise and record).
        gw.loseNextAnswer('authorise');
        const slow = await hub.api('POST', '/api/orders', body('k1', gw.pay.approve), me.token, {
          'idempotency-key': randomUUID(),
        });
        t.equal(slow.status, 503);
        t.equal(slow.body.error.code, 'PAYMENT_UNAVAILABLE');
        const timedOut = await waitFor('the lost authorisation voided', async () => {
          const p = (await gw.payments()).find(
            (x) => x.amountMinor === 200 && x.state !== 'declined',
          );
          return p?.state === 'voided' ? p : undefined;
        });
        t.equal(timedOut.captures, 0);
        const orders = (await hub.api('GET', '/api/me/orders', undefined, me.token)).body;
        t.same(
          orders.map((o: { state: string }) => o.state),
          ['failed', 'failed', 'failed'],
        );
        await assertLedger(t, hub, gw, 0);
      },
    );

    t.test('failures void: not_taken, jammed, Rejected, expired command', async (t) => {
      // jamHoldSeconds 0: a jam voids at once (the jam hold is tested in jam-hold.test.ts).
      const { hub, gw, k, me } = await setup(t, gwName, {
        dispenseCommandTtlSeconds: 1,
        jamHoldSeconds: 0,
      });
      const place = async () =>
        (
          await hub.api('POST', '/api/orders', body('k1'), me.token, {
            'idempotency-key': randomUUID(),
          })
        ).body.order;
      for (const outcome of ['not_taken', 'jammed'] as const) {
        const o = await place();
        const cmd = await k.waitForCommand(
          (x) => x.action === 'Dispense' && x.payload.orderId === o.id,
        );
        await k.sendEvent('DispenseCompleted', {
          commandId: cmd.payload.commandId,
          orderId: o.id,
          slot: cmd.payload.slot as number,
          diskId: 'x',
          outcome,
        });
        const f = await hub.waitOrder(me.token, o.id, (x) => x.state === 'failed');
        t.equal(f.failureReason, `DISPENSE_${outcome.toUpperCase()}`);
      }
      k.onCommand = (c) =>
        c.action === 'Dispense'
          ? { status: 'Rejected', reason: 'slot fault' }
          : { status: 'Accepted' };
      const r = await place();
      t.equal(
        (await hub.waitOrder(me.token, r.id, (x) => x.state === 'failed')).failureReason,
        'DISPENSE_REJECTED',
      );
      k.onCommand = () => new Promise(() => undefined); // never answers
      const e = await place();
      t.equal(
        (await hub.waitOrder(me.token, e.id, (x) => x.state === 'failed')).failureReason,
        'KIOSK_UNREACHABLE',
      );
      await waitFor(
        'voids',
        async () =>
          (await gw.payments()).filter((p) => p.amountMinor === 200 && p.state === 'voided')
            .length === 4,
      );
      await assertLedger(t, hub, gw, 0);
    });

    t.test(
      'kiosk offline after Dispense: no capture until it reports; then exactly one',
      async (t) => {
        const { hub, gw, k, me } = await setup(t, gwName);
        const o = (
          await hub.api('POST', '/api/orders', body('k1'), me.token, {
            'idempotency-key': randomUUID(),
          })
        ).body.order;
        const cmd = await k.waitForCommand((x) => x.action === 'Dispense');
        await hub.server.hub.waitFor(cmd.payload.commandId, {
          until: ['accepted'],
          timeoutMs: 5000,
        });
        await k.terminate();
        await waitFor('offline', async () => !hub.server.hub.isConnected('k1'));
        await hub.server.rental.reconciliation.runOnce();
        t.equal(
          (await hub.api('GET', `/api/orders/${o.id}`, undefined, me.token)).body.order.state,
          'dispensing',
        );
        const flags = (await hub.admin('GET', '/api/operator/reconciliation')).body.flags;
        t.ok(
          flags.some(
            (f: { kind: string; subject: string }) =>
              f.kind === 'KIOSK_OFFLINE_IN_FLIGHT' && f.subject === o.id,
          ),
        );
        t.equal((await gw.payments()).find((p) => p.amountMinor === 200)?.state, 'authorised');

        const k2 = await hub.reconnect('k1');
        const data = {
          commandId: cmd.payload.commandId,
          orderId: o.id,
          slot: 1,
          diskId: 'k1-d1',
          outcome: 'taken' as const,
        };
        const sent = await k2.sendEvent('DispenseCompleted', data);
        await k2.sendEvent('DispenseCompleted', data, sent); // re-sent from the outbox
        await hub.waitOrder(me.token, o.id, (x) => x.state === 'completed');
        await assertLedger(t, hub, gw, 1);
        const after = (await hub.admin('GET', '/api/operator/reconciliation')).body.flags;
        t.notOk(
          after.some((f: { subject: string }) => f.subject === o.id),
          'flag resolved',
        );
      },
    );

    t.test(
      'hub restart mid-order: a new server on the same database finishes it once',
      async (t) => {
        const clock = testClock();
        const gw = await GATEWAYS[gwName]!(t, clock);
        const withGw = {
          clock,
          payWith: gw.pay.approve,
          ...(gw.provider ? { provider: gw.provider } : {}),
        };
        const hubA = await startRentalHub(t, { ...withGw, keepDir: true });
        gw.bind(hubA.server.rental.provider);
        await hubA.seedCatalog();
        const k = await hubA.kiosk('k1');
        const me = await hubA.renter();
        await hubA.deposit(me.token);
        const o = (
          await hubA.api('POST', '/api/orders', body('k1'), me.token, {
            'idempotency-key': randomUUID(),
          })
        ).body.order;
        const cmd = await k.waitForCommand((x) => x.action === 'Dispense');
        await hubA.server.hub.waitFor(cmd.payload.commandId, {
          until: ['accepted'],
          timeoutMs: 5000,
        });
        await hubA.stop();

        const hubB = await startRentalHub(t, { ...withGw, dir: hubA.dir });
        gw.bind(hubB.server.rental.provider);
        const k2 = await HubTestKiosk.connect({
          url: hubB.wsUrl,
          kioskId: 'k1',
          secret: k.opts.secret,
        });
        t.teardown(() => k2.ws.terminate());
        await k2.boot();
        await k2.sendEvent('DispenseCompleted', {
          commandId: cmd.payload.commandId,
          orderId: o.id,
          slot: 1,
          diskId: 'k1-d1',
          outcome: 'taken',
        });
        await hubB.waitOrder(me.token, o.id, (x) => x.state === 'completed');
        await assertLedger(t, hubB, gw, 1);
      },
    );
  });
}

t.test(
  'capture whose answer is lost, and webhooks delivered twice: one capture, one rental',
  async (t) => {
    const { hub, gw, k, me } = await setup(t, 'sandbox', {
      payments: { webhookSecret: WEBHOOK_SECRET, sandboxAsyncCapture: true },
    });
    const post = (b: string, sig: string) =>
      hub.api('POST', '/api/payments/webhook/sandbox', b, null, {
        'x-sandbox-signature': sig,
        'content-type': 'application/json',
      });
    t.equal(
      (await hub.api('GET', '/api/me', undefined, me.token)).body.deposit.heldMinor,
      0,
      'deposit pending until the webhook',
    );
    for (const w of hub.sandbox.takeWebhooks()) await post(w.body, w.signature);
    t.equal(
      (await hub.api('GET', '/api/me', undefined, me.token)).body.deposit.heldMinor,
      5000,
      'deposit held after the webhook',
    );
    const o = (
      await hub.api('POST', '/api/orders', body('k1'), me.token, {
        'idempotency-key': randomUUID(),
      })
    ).body.order;
    const cmd = await k.waitForCommand((x) => x.action === 'Dispense');
    hub.sandbox.injectFault({ op: 'capture', mode: 'timeout_after' });
    await k.sendEvent('DispenseCompleted', {
      commandId: cmd.payload.commandId,
      orderId: o.id,
      slot: 1,
      diskId: 'k1-d1',
      outcome: 'taken',
    });
    await waitFor('capture attempted', async () =>
      (await hub.sandbox.payments()).some((p) => p.amountMinor === 200 && p.state === 'captured'),
    );
    t.equal(
      (await hub.api('GET', `/api/orders/${o.id}`, undefined, me.token)).body.order.state,
      'dispensing',
      'pending until told',
    );
    await hub.server.rental.reconciliation.runOnce(); // retries with the same key: still one capture
    const hooks = hub.sandbox.takeWebhooks().filter((w) => w.event.type === 'payment.captured');
    t.equal(hooks.length, 1);
    const forged = await post(
      hooks[0]!.body,
      signWebhook('wrong-secret-0123456789', hooks[0]!.body),
    );
    t.equal(forged.status, 400);
    t.equal(forged.body.error.code, 'WEBHOOK_INVALID');
    const first = await post(hooks[0]!.body, hooks[0]!.signature);
    const second = await post(hooks[0]!.body, hooks[0]!.signature);
    t.same([first.body.duplicate, second.body.duplicate], [false, true]);
    const done = await hub.waitOrder(me.token, o.id, (x) => x.state === 'completed');
    t.ok(done.rentalId);
    t.equal((await hub.api('GET', '/api/me/rentals', undefined, me.token)).body.length, 1);
    await assertLedger(t, hub, gw, 1);
  },
);
