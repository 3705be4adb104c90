import pino from 'pino';
import t, { type Test } from 'tap';
import { PaymentError } from '../../../../cloud-lite/rental/payments/provider.js';
import { StripeProvider } from '../../../../cloud-lite/rental/payments/stripe/stripe-provider.js';
import { AUTH_LIFETIME_MS, DAY_MS, StripeStandin } from '../../../helpers/stripe-standin.js';
import { stripeGateway, WHSEC } from '../helpers/gateways.js';

async function setup(t: Test) {
  let offset = 0;
  const now = () => Date.now() + offset;
  const advance = (ms: number) => {
    offset += ms;
  };
  const gw = await stripeGateway(t, { now: () => new Date(now()), advance });
  return { standin: gw.standin, provider: gw.provider as StripeProvider, advance, now };
}

const auth = (key: string, cardToken = 'pm_card_visa', amountMinor = 1000) => ({
  amountMinor,
  currency: 'EUR',
  cardToken,
  reference: `pay-${key}`,
  idempotencyKey: `pay-${key}:authorise`,
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PaymentError) return err.code;
    throw err;
  }
  return 'no refusal';
}

t.test('manual capture: authorise, capture less than authorised, refund in parts', async (t) => {
  const { standin, provider, now } = await setup(t);
  const before = Math.floor(now() / 1000) * 1000;
  const r = await provider.authorise(auth('a'));
  t.equal(r.status, 'succeeded');
  t.equal(r.last4, '4242');
  const pi = standin.intents.get(r.providerRef)!;
  // Counted from the second the stand-in authorised in: the clock read after the call may be
  // in the next one.
  t.ok(pi.created * 1000 >= before && pi.created * 1000 <= now(), 'authorised during the call');
  t.equal(
    Date.parse(r.authorisedUntil!),
    pi.created * 1000 + AUTH_LIFETIME_MS,
    'expiry is capture_before',
  );
  t.match(pi, {
    status: 'requires_capture',
    capture_method: 'manual',
    amount: 1000,
    currency: 'eur',
    metadata: { reference: 'pay-a' },
  });
  await provider.capture({
    providerRef: r.providerRef,
    amountMinor: 700,
    idempotencyKey: 'pay-a:capture',
  });
  t.match(pi, { status: 'succeeded', amount_received: 700 });
  await provider.refund({
    providerRef: r.providerRef,
    amountMinor: 200,
    idempotencyKey: 'ref-1:refund',
  });
  await provider.refund({
    providerRef: r.providerRef,
    amountMinor: 500,
    idempotencyKey: 'ref-2:refund',
  });
  t.equal(
    await refusal(
      provider.refund({
        providerRef: r.providerRef,
        amountMinor: 1,
        idempotencyKey: 'ref-3:refund',
      }),
    ),
    'PAYMENT_REFUSED',
    'nothing left to refund',
  );
  t.same(
    standin.movements.map((m) => [m.op, m.amount]),
    [
      ['authorise', 1000],
      ['capture', 700],
      ['refund', 200],
      ['refund', 500],
    ],
  );
  t.match(await provider.lookup('pay-a'), {
    providerRef: r.providerRef,
    state: 'captured',
    capturedMinor: 700,
  });
  t.equal(await provider.lookup('pay-none'), undefined);
});

t.test(
  "Stripe's refusals: declines, amount_too_large, unexpected state, idempotency",
  async (t) => {
    const { standin, provider } = await setup(t);
    t.equal(
      await refusal(provider.authorise(auth('d', 'pm_card_chargeDeclined'))),
      'CARD_DECLINED',
    );
    t.equal(
      await refusal(provider.authorise(auth('i', 'pm_card_chargeDeclinedInsufficientFunds'))),
      'INSUFFICIENT_FUNDS',
    );
    t.equal(standin.requests.at(-1)?.status, 402, 'a decline is a 402');
    const r = await provider.authorise(auth('b'));
    t.equal(
      await refusal(
        provider.capture({ providerRef: r.providerRef, amountMinor: 1001, idempotencyKey: 'k1' }),
      ),
      'PAYMENT_REFUSED',
      'amount_too_large',
    );
    t.equal(standin.requests.at(-2)?.status, 400);
    await provider.void({ providerRef: r.providerRef, idempotencyKey: 'pay-b:void' });
    t.same(
      await provider.void({ providerRef: r.providerRef, idempotencyKey: 'pay-b:void2' }),
      { providerRef: r.providerRef, status: 'succeeded' },
      'a second cancel (payment_intent_unexpected_state) is a void already done',
    );
    t.equal(
      await refusal(
        provider.capture({ providerRef: r.providerRef, amountMinor: 10, idempotencyKey: 'k2' }),
      ),
      'PAYMENT_REFUSED',
      'no capture after cancel',
    );
    // The same key again: the same intent, not a second authorisation.
    const again = await provider.authorise(auth('c'));
    t.equal((await provider.authorise(auth('c'))).providerRef, again.providerRef);
    t.equal(
      standin.movements.filter((m) => m.op === 'authorise').length,
      2,
      'b and c authorised once each',
    );
    t.equal(standin.requests.at(-1)?.status, 200);
    // The same key with other parameters: Stripe's idempotency_error.
    t.equal(
      await refusal(provider.authorise({ ...auth('c'), amountMinor: 999 })),
      'PAYMENT_REFUSED',
    );
    t.equal(standin.requests.at(-1)?.status, 400);
  },
);

t.test('idempotency keys are forgotten after 24 hours', async (t) => {
  const { standin, provider, advance } = await setup(t);
  const a = await provider.authorise(auth('e'));
  advance(DAY_MS + 1000);
  const b = await provider.authorise(auth('e'));
  t.not(b.providerRef, a.providerRef, 'a new intent under the expired key');
  t.equal(standin.intents.size, 2);
});

t.test('a lapsed authorisation cannot be captured: AUTHORISATION_EXPIRED', async (t) => {
  const { standin, provider, advance } = await setup(t);
  const r = await provider.authorise(auth('x'));
  advance(AUTH_LIFETIME_MS - 60_000);
  standin.expireAuthorisations();
  t.equal(
    standin.intents.get(r.providerRef)?.status,
    'requires_capture',
    'still held a minute before',
  );
  advance(120_000);
  t.equal(
    await refusal(
      provider.capture({
        providerRef: r.providerRef,
        amountMinor: 1000,
        idempotencyKey: 'pay-x:capture',
      }),
    ),
    'AUTHORISATION_EXPIRED',
  );
  t.match(standin.intents.get(r.providerRef), {
    status: 'canceled',
    cancellation_reason: 'automatic',
  });
  t.equal(standin.movements.filter((m) => m.op === 'capture').length, 0);
});

t.test('lost answers: the outcome is read back, never done twice', async (t) => {
  const { standin, provider } = await setup(t);
  const r = await provider.authorise(auth('l'));
  standin.injectFault({ op: 'capture', mode: 'error_after' });
  t.equal(
    (
      await provider.capture({
        providerRef: r.providerRef,
        amountMinor: 1000,
        idempotencyKey: 'pay-l:capture',
      })
    ).status,
    'succeeded',
    'done though the answer was a 500',
  );
  standin.injectFault({ op: 'refund', mode: 'error_after' });
  t.equal(
    (
      await provider.refund({
        providerRef: r.providerRef,
        amountMinor: 300,
        idempotencyKey: 'ref-l:refund',
      })
    ).status,
    'succeeded',
    'the refund found by its key',
  );
  standin.injectFault({ op: 'refund', mode: 'error_before' });
  t.equal(
    await refusal(
      provider.refund({
        providerRef: r.providerRef,
        amountMinor: 300,
        idempotencyKey: 'ref-m:refund',
      }),
    ),
    'PAYMENT_UNAVAILABLE',
    'not done: unknown to us, retry later',
  );
  await provider.refund({
    providerRef: r.providerRef,
    amountMinor: 300,
    idempotencyKey: 'ref-m:refund',
  });
  standin.injectFault({ op: 'authorise', mode: 'error_after' });
  t.equal(await refusal(provider.authorise(auth('n'))), 'PAYMENT_UNAVAILABLE');
  const found = await provider.lookup('pay-n');
  t.equal(found?.state, 'authorised', 'the lost authorisation is found by our reference');
  await provider.void({ providerRef: found!.providerRef, idempotencyKey: 'pay-n:void' });
  t.same(
    standin.movements.map((m) => m.op),
    ['authorise', 'capture', 'refund', 'refund', 'authorise', 'cancel'],
  );
});

t.test('saving a card: a customer, then the saved method pays again', async (t) => {
  const { standin, provider } = await setup(t);
  const r = await provider.authorise({ ...auth('s'), saveFor: { userId: 'u1' } });
  t.match(r.savedToken, /^cus_[A-Za-z0-9]+\/pm_[A-Za-z0-9]+$/);
  const again = await provider.authorise({ ...auth('t'), cardToken: r.savedToken! });
  t.equal(again.status, 'succeeded');
  const pm = r.savedToken!.split('/')[1];
  t.equal(
    await refusal(provider.authorise({ ...auth('u'), cardToken: pm! })),
    'PAYMENT_REFUSED',
    'an attached method without its customer is refused, as Stripe does',
  );
  t.equal(standin.intents.get(again.providerRef)?.customer, r.savedToken!.split('/')[0]);
});

t.test('webhooks: Stripe-Signature verified with the clock; events mapped', async (t) => {
  const { standin, provider, advance } = await setup(t);
  const r = await provider.authorise(auth('w'));
  await provider.capture({
    providerRef: r.providerRef,
    amountMinor: 600,
    idempotencyKey: 'pay-w:capture',
  });
  const events = standin.takeWebhooks();
  const parsed = events.map((e) =>
    provider.parseWebhook(Buffer.from(e.body), { 'stripe-signature': e.signature }),
  );
  t.match(
    parsed.find((e) => e.type === 'payment.authorised'),
    { providerRef: r.providerRef, amountMinor: 1000, reference: 'pay-w' },
  );
  t.match(
    parsed.find((e) => e.type === 'payment.captured'),
    { providerRef: r.providerRef, amountMinor: 600 },
  );
  t.ok(
    parsed.some((e) => e.type === 'ignored'),
    'charge.captured is acknowledged, not acted on',
  );
  const e = events[0]!;
  t.equal(
    await refusal(
      Promise.resolve().then(() =>
        provider.parseWebhook(Buffer.from(e.body.replace('1000', '9000')), {
          'stripe-signature': e.signature,
        }),
      ),
    ),
    'WEBHOOK_INVALID',
    'a changed body',
  );
  t.equal(
    await refusal(Promise.resolve().then(() => provider.parseWebhook(Buffer.from(e.body), {}))),
    'WEBHOOK_INVALID',
    'no signature',
  );
  advance(10 * 60_000);
  t.equal(
    await refusal(
      Promise.resolve().then(() =>
        provider.parseWebhook(Buffer.from(e.body), { 'stripe-signature': e.signature }),
      ),
    ),
    'WEBHOOK_INVALID',
    'too old (5 minutes tolerance)',
  );
});

t.test('a wrong API key is an unknown outcome, not a decline', async (t) => {
  const standin = new StripeStandin({ webhookSecret: WHSEC, secretKey: 'sk_test_right' });
  const api = await standin.start();
  t.teardown(() => standin.stop());
  const wrong = new StripeProvider({
    secretKey: 'sk_test_wrong',
    webhookSecret: WHSEC,
    logger: pino({ level: 'silent' }),
    api,
    maxNetworkRetries: 0,
  });
  t.equal(await refusal(wrong.authorise(auth('k'))), 'PAYMENT_UNAVAILABLE');
  t.equal(standin.intents.size, 0);
  t.equal(standin.requests[0]?.status, 401);
});
