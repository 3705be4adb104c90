// The hub with the Stripe provider on the local stand-in: webhooks delivered twice and out of
// order, a webhook before our row knows its intent, events for no payment of ours, and
// authorisations that lapse (the sweep with a fake clock, and a capture after expiry).
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import {
  isOptionalKind,
  type RenterMailPayloads,
  renderRenterMail,
} from '../../../../cloud-lite/notifications/renter-mail-text.js';
import { AUTH_LIFETIME_MS } from '../../../helpers/stripe-standin.js';
import { stripeGateway } from '../helpers/gateways.js';
import { startRentalHub, type TestClock, waitFor } from '../helpers/rental-hub.js';

const order = (card: unknown = { useSaved: true }) => ({
  kioskId: 'k1',
  diskTypeId: 't64',
  writeProtect: false,
  days: 1,
  card,
});

async function setup(t: Test) {
  let offset = 0;
  const clock: TestClock = {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
  const gw = await stripeGateway(t, clock);
  const hub = await startRentalHub(t, { clock, provider: gw.provider, payWith: gw.pay.approve });
  await hub.seedCatalog();
  const k = await hub.kiosk('k1');
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200, 'deposit paid with a payment-method id');
  const flags = async () =>
    (await hub.admin('GET', '/api/operator/reconciliation')).body.flags as {
      kind: string;
      subject: string;
      message: string;
    }[];
  const deliver = () => gw.standin.deliverWebhooks(`${hub.baseUrl}${gw.webhookPath}`);
  return { hub, gw, k, me, clock, flags, deliver };
}

async function place(hub: Awaited<ReturnType<typeof setup>>['hub'], token: string) {
  const r = await hub.api('POST', '/api/orders', order(), token, {
    'idempotency-key': randomUUID(),
  });
  if (r.status !== 201) throw new Error(JSON.stringify(r.body));
  return r.body.order;
}

t.test('a saved card is a Stripe customer; its deposit is captured at once', async (t) => {
  const { hub, gw, me } = await setup(t);
  const body = (await hub.api('GET', '/api/me', undefined, me.token)).body;
  t.equal(body.deposit.heldMinor, 5000);
  t.same(body.savedCard, { last4: '4242' });
  t.same(
    (await gw.payments()).map((p) => [p.amountMinor, p.state]),
    [[5000, 'captured']],
  );
  const u = await hub.server.store.transaction((tx) => tx.users.get(me.userId));
  t.match(u?.cardToken, /^cus_\w+\/pm_\w+$/, 'the saved token names the customer and its method');
  const card = await hub.api(
    'POST',
    '/api/me/deposit',
    {
      amountMinor: 100,
      card: { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' },
    },
    me.token,
  );
  t.equal(card.status, 400, 'card numbers are refused');
  t.equal(card.body.error.code, 'CARD_DATA_REFUSED');
  t.equal(gw.standin.intents.size, 1, 'nothing reached Stripe');
});

t.test('webhooks twice and newest first: each applied once, nothing flagged', async (t) => {
  const { hub, gw, k, me, flags, deliver } = await setup(t);
  const o = await place(hub, me.token);
  const cmd = await k.waitForCommand((x) => x.action === 'Dispense');
  await k.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId,
    orderId: o.id,
    slot: 1,
    diskId: 'k1-d1',
    outcome: 'taken',
  });
  await hub.waitOrder(me.token, o.id, (x) => x.state === 'completed');
  const statuses = await deliver();
  t.ok(statuses.length >= 10, `${statuses.length} deliveries`);
  t.ok(
    statuses.every((s) => s === 200),
    'every delivery acknowledged',
  );
  t.same(await flags(), [], 'no event contradicts our rows');
  t.same(
    (await gw.payments()).map((p) => [p.amountMinor, p.state, p.captures]),
    [
      [5000, 'captured', 1],
      [200, 'captured', 1],
    ],
  );
});

t.test('a webhook before our row knows its intent releases the lost authorisation', async (t) => {
  const { hub, gw, me, flags, deliver } = await setup(t);
  gw.standin.injectFault({ op: 'authorise', mode: 'error_after' });
  gw.standin.injectFault({ op: 'search', mode: 'error_before', times: 10 });
  const r = await hub.api('POST', '/api/orders', order(), me.token, {
    'idempotency-key': randomUUID(),
  });
  t.equal(r.body.error.code, 'PAYMENT_UNAVAILABLE');
  const held = () => [...gw.standin.intents.values()].filter((p) => p.amount === 200);
  t.equal(held()[0]?.status, 'requires_capture', 'Stripe holds money our row has no id for');
  await deliver();
  await waitFor('the authorisation released', async () => held()[0]?.status === 'canceled');
  const row = (await hub.server.store.transaction((tx) => tx.payments.listByUser(me.userId))).find(
    (p) => p.amountMinor === 200,
  );
  t.match(row, { state: 'voided', providerRef: held()[0]!.id });
  t.same(await flags(), []);
});

t.test('an event for no payment of ours is flagged, not applied', async (t) => {
  const { gw, flags, deliver } = await setup(t);
  const foreign = await gw.provider!.authorise({
    amountMinor: 777,
    currency: 'EUR',
    cardToken: 'pm_card_visa',
    reference: 'made-elsewhere',
    idempotencyKey: 'elsewhere:1',
  });
  await deliver();
  t.match(await flags(), [{ kind: 'WEBHOOK_UNMATCHED', subject: `stripe:${foreign.providerRef}` }]);
  t.equal(gw.standin.intents.get(foreign.providerRef)?.status, 'requires_capture', 'left alone');
});

t.test(
  'authorisations at risk are listed before they lapse; a lapsed one is not captured',
  async (t) => {
    const { hub, gw, k, me, clock, flags, deliver } = await setup(t);
    const o = await place(hub, me.token);
    const cmd = await k.waitForCommand((x) => x.action === 'Dispense');
    const row = (await hub.server.store.transaction((tx) => tx.payments.listByRef(o.id)))[0]!;
    t.ok(row.authorisedUntil, 'the expiry is recorded');
    const lifetime = Date.parse(row.authorisedUntil!) - Date.parse(row.createdAt);
    t.ok(
      Math.abs(lifetime - AUTH_LIFETIME_MS) < 1000,
      `seven days after the authorisation (Stripe's capture_before, in seconds): ${lifetime}`,
    );
    await hub.server.rental.reconciliation.runOnce();
    t.notOk(
      (await flags()).some((f) => f.kind === 'AUTHORISATION_AT_RISK'),
      'not yet at risk',
    );
    // No saved card to renew it with (the renter removed it): it can only be flagged.
    await hub.server.store.transaction((tx) =>
      tx.users.update(me.userId, { cardToken: null, cardLast4: null }),
    );
    clock.advance(AUTH_LIFETIME_MS - 6 * 3600_000); // 6 h left, inside the 12 h margin
    await hub.server.rental.reconciliation.runOnce();
    t.match(
      (await flags()).find((f) => f.kind === 'AUTHORISATION_AT_RISK'),
      {
        subject: row.id,
        message: new RegExp(
          `lapses at ${row.authorisedUntil} and was not renewed \\(NO_SAVED_CARD`,
        ),
      },
    );
    clock.advance(7 * 3600_000); // lapsed at Stripe
    await k.sendEvent('DispenseCompleted', {
      commandId: cmd.payload.commandId,
      orderId: o.id,
      slot: 1,
      diskId: 'k1-d1',
      outcome: 'taken',
    });
    await waitFor('the capture tried', async () => {
      const p = await hub.server.store.transaction((tx) => tx.payments.get(row.id));
      return p?.state === 'capture_failed' ? p : undefined;
    });
    const p = await hub.server.store.transaction((tx) => tx.payments.get(row.id));
    t.equal(p?.failureCode, 'AUTHORISATION_EXPIRED');
    await deliver();
    await hub.server.rental.reconciliation.runOnce();
    const kinds = (await flags()).filter((f) => f.subject === row.id).map((f) => f.kind);
    t.ok(kinds.includes('CAPTURE_FAILED'), 'the failed capture is flagged');
    t.ok(kinds.includes('AUTHORISATION_LAPSED'), "Stripe's lapse event is flagged");
    t.notOk(kinds.includes('WEBHOOK_UNEXPECTED'), 'and not as a surprise');
    t.notOk(kinds.includes('AUTHORISATION_AT_RISK'), 'no longer at risk: it is past');
    t.equal(
      gw.standin.movements.filter((m) => m.op === 'capture' && m.amount === 200).length,
      0,
      'nothing captured from a lapsed authorisation',
    );
  },
);

t.test(
  'an order in flight past its margin is re-authorised on the saved card, then captured',
  async (t) => {
    const { hub, gw, k, me, clock, flags } = await setup(t);
    const o = await place(hub, me.token);
    const cmd = await k.waitForCommand((x) => x.action === 'Dispense');
    const old = (await hub.server.store.transaction((tx) => tx.payments.listByRef(o.id)))[0]!;
    clock.advance(AUTH_LIFETIME_MS - 6 * 3600_000); // the kiosk has not reported for 6.75 days
    await hub.server.rental.reconciliation.runOnce();
    const rows = await hub.server.store.transaction((tx) => tx.payments.listByRef(o.id));
    const renewed = rows.find((p) => p.id !== old.id)!;
    t.match(renewed, { state: 'authorised', amountMinor: old.amountMinor, purpose: 'order' });
    t.match(
      gw.standin.created.get(renewed.providerRef!),
      { off_session: 'true', confirm: 'true', capture_method: 'manual' },
      'renewed off session: the renter is not there',
    );
    t.ok(Date.parse(renewed.authorisedUntil!) > Date.parse(old.authorisedUntil!), 'lasts longer');
    await waitFor('the old one voided', async () => {
      const p = await hub.server.store.transaction((tx) => tx.payments.get(old.id));
      return p?.state === 'voided';
    });
    const stored = await hub.server.store.transaction((tx) => tx.orders.get(o.id));
    t.equal(stored?.paymentId, renewed.id, 'the order pays with the new authorisation');
    t.notOk(
      (await flags()).some((f) => f.kind === 'AUTHORISATION_AT_RISK'),
      'nothing at risk',
    );
    const audit = (await hub.admin('GET', '/api/operator/audit')).body.audit as {
      action: string;
      subject: string;
      details: { to?: string };
    }[];
    t.match(
      audit.find((a) => a.action === 'payment.reauthorised'),
      { subject: old.id, details: { to: renewed.id } },
      'audited',
    );
    await k.sendEvent('DispenseCompleted', {
      commandId: cmd.payload.commandId,
      orderId: o.id,
      slot: 1,
      diskId: 'k1-d1',
      outcome: 'taken',
    });
    await hub.waitOrder(me.token, o.id, (x) => x.state === 'completed');
    t.same(
      gw.standin.movements
        .filter((m) => m.op === 'capture' && m.amount !== 5000) // not the deposit
        .map((m) => [m.intent, m.amount]),
      [[renewed.providerRef, 200]],
      'captured once, from the new authorisation',
    );
    t.equal(gw.standin.intents.get(old.providerRef!)?.status, 'canceled');
  },
);

t.test(
  'a renewal the card’s issuer wants authenticated: the order tells the renter, the operator is flagged',
  async (t) => {
    const { hub, gw, k, me, clock, flags } = await setup(t);
    const o = await place(hub, me.token);
    await k.waitForCommand((x) => x.action === 'Dispense');
    const old = (await hub.server.store.transaction((tx) => tx.payments.listByRef(o.id)))[0]!;
    gw.standin.requireAuthentication();
    clock.advance(AUTH_LIFETIME_MS - 6 * 3600_000);
    await hub.server.rental.reconciliation.runOnce();
    const order = (await hub.api('GET', `/api/orders/${o.id}`, undefined, me.token)).body.order;
    const stored = await hub.server.store.transaction((tx) => tx.orders.get(o.id));
    t.equal(stored?.paymentId, old.id, 'still on the old authorisation');
    t.match(
      order.steps.at(-1),
      { state: 'dispensing', message: /bank wants you to confirm the renewal/ },
      'the renter’s order says so',
    );
    t.match(
      (await flags()).find((f) => f.kind === 'AUTHORISATION_AT_RISK'),
      { subject: old.id, message: /not renewed \(AUTHENTICATION_REQUIRED/ },
      'the operator is told why',
    );
    const attempt = (await hub.server.store.transaction((tx) => tx.payments.listByRef(o.id))).find(
      (p) => p.id !== old.id,
    );
    t.match(attempt, { state: 'declined', failureCode: 'AUTHENTICATION_REQUIRED' });
    t.match([...gw.standin.created.values()].at(-1), { off_session: 'true', confirm: 'true' });
    t.match(
      await mailOf(hub, old.id),
      { userId: me.userId, payload: { for: 'order', reference: o.id, amountMinor: 200 } },
      'the renter is e-mailed too',
    );
  },
);

/** The payment_confirmation mail queued about payment `id`, if any. */
const mailOf = (hub: Awaited<ReturnType<typeof setup>>['hub'], id: string) =>
  hub.server.store.transaction((tx) => tx.notifications.get('payment_confirmation', id));

t.test(
  'a reservation not picked up yet whose renewal the issuer wants authenticated: the renter is e-mailed',
  async (t) => {
    const { hub, gw, k, me, clock, flags } = await setup(t);
    const made = await hub.api('POST', '/api/reservations', order(), me.token, {
      'idempotency-key': randomUUID(),
    });
    t.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.reservation.id as string;
    await k.waitForCommand((x) => x.action === 'PrepareDisk');
    const old = (await hub.server.store.transaction((tx) => tx.payments.listByRef(id)))[0]!;
    gw.standin.requireAuthentication();
    clock.advance(AUTH_LIFETIME_MS - 6 * 3600_000);
    await hub.server.rental.reconciliation.runOnce();
    t.match(
      (await flags()).find((f) => f.kind === 'AUTHORISATION_AT_RISK'),
      { subject: old.id, message: /AUTHENTICATION_REQUIRED/ },
      'the operator is flagged',
    );
    const mail = await mailOf(hub, old.id);
    t.match(mail, {
      userId: me.userId,
      payload: { for: 'reservation', reference: id, amountMinor: 200, currency: 'EUR' },
    });
    const payload = mail!.payload as RenterMailPayloads['payment_confirmation'];
    t.equal(payload.lapsesAt, old.authorisedUntil, 'when the hold lapses');
    const ctx = { timeZone: 'UTC', accountUrl: 'https://kiosk.test/me' };
    const en = renderRenterMail('payment_confirmation', payload, 'en', ctx);
    t.match(en.subject, /your bank wants you to approve the hold/);
    t.match(en.text, /reservation of .* holds €2\.00 on your card/);
    t.match(en.text, /always sent/, 'no unsubscribe link: it is about money held');
    t.notMatch(en.text, /stop e-mails/);
    const zh = renderRenterMail('payment_confirmation', payload, 'zh-CN', ctx);
    t.match(zh.subject, /银行要求您确认/);
    t.match(zh.text, /预约/);
    t.notOk(isOptionalKind('payment_confirmation'), 'it cannot be unsubscribed from');
  },
);
