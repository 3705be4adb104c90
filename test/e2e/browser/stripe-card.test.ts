// Card data never reaches the hub (issue 23 item 4), with the Stripe provider: the renter page
// loads Stripe.js from the configured URL (here the local stand-in's, stripe-js-standin.ts),
// the card is typed into the Payment Element's frame, and the page sends the hub only the
// payment-method id. Every request the browser makes is kept: none to the hub carries the card.
import pino from 'pino';
import t from 'tap';
import { StripeProvider } from '../../../cloud-lite/rental/payments/stripe/stripe-provider.js';
import { startWebHub } from '../../cloud-lite/web/web-hub.js';
import {
  STANDIN_PUBLISHABLE_KEY,
  STANDIN_SECRET_KEY,
  StripeStandin,
} from '../../helpers/stripe-standin.js';
import { chromiumMissing, openBrowser, watchConsole } from './fixtures/browser.js';
import { admin, readySlot, seedCatalog, seedKiosk } from './fixtures/fleet.js';

const WHSEC = 'whsec_test_0123456789abcdef';
const NUMBER = '4242 4242 4242 4242';

t.test('Stripe: the card goes into the Payment Element; the hub gets a pm_ id only', async (t) => {
  if (chromiumMissing(t)) return;
  const standin = new StripeStandin({ webhookSecret: WHSEC });
  const api = await standin.start();
  t.teardown(() => standin.stop());
  const stripeOrigin = `http://${api.host}:${api.port}`;
  const hub = await startWebHub(t, {
    overrides: {
      rental: {
        scryptLog2N: 10,
        payments: {
          provider: 'stripe',
          webhookSecret: WHSEC,
          stripe: { publishableKey: STANDIN_PUBLISHABLE_KEY, jsUrl: `${stripeOrigin}/v3/` },
        },
      },
    } as never,
    deps: {
      rental: {
        provider: new StripeProvider({
          secretKey: STANDIN_SECRET_KEY,
          webhookSecret: WHSEC,
          logger: pino({ level: 'silent' }),
          api,
          maxNetworkRetries: 0,
        }),
      },
    },
  });
  await seedCatalog(hub);
  const kiosk = await seedKiosk(
    t,
    hub,
    'kiosk-1',
    { name: 'Central Station', address: 'Platform 1', lat: 52.5, lng: 13.4 },
    [readySlot(7, 'disk-7')],
  );
  // A renter with a deposit, through the API (Stripe's test payment method).
  const password = 'correct horse battery';
  await admin(hub, 'POST', '/api/operator/users', {
    email: 'sam@example.org',
    password,
    role: 'renter',
  });
  const login = await fetch(`${hub.baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: hub.baseUrl },
    body: JSON.stringify({ login: 'sam@example.org', password }),
  });
  const { token } = (await login.json()) as { token: string };
  const deposit = await fetch(`${hub.baseUrl}/api/me/deposit`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: hub.baseUrl,
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ amountMinor: 5000, card: { paymentMethod: 'pm_card_visa' } }),
  });
  t.equal(deposit.status, 200, 'deposit paid');

  const { context, page } = await openBrowser(t);
  const problems = watchConsole(page);
  const requests: { url: string; body: string }[] = [];
  context.on('request', (r) => requests.push({ url: r.url(), body: r.postData() ?? '' }));
  await context.addCookies([{ name: 'dk_session', value: token, url: hub.baseUrl }]);
  await page.goto(`${hub.baseUrl}/k/kiosk-1`);
  await page.getByRole('button', { name: /Rent 1 TB/ }).click();
  const element = page.frameLocator('iframe[name="stripe-standin-payment"]');
  await element.getByLabel('Card number').fill(NUMBER);
  await element.getByLabel('Expiration date').fill('12 / 39');
  await element.getByLabel('Security code').fill('123');
  await page.getByRole('button', { name: 'Pay and take the disk' }).click();
  const dispense = await kiosk.waitForCommand((c) => c.action === 'Dispense', 10_000);
  await page.locator('#order-status').getByText('Take your disk from slot 7').waitFor();

  const order = requests.find((r) => r.url === `${hub.baseUrl}/api/orders`);
  const pm = /"paymentMethod":"(pm_\w+)"/.exec(order?.body ?? '')?.[1];
  t.ok(pm, 'the order names a payment-method id');
  const intent = [...standin.intents.values()].find(
    (pi) => pi.metadata.reference === dispense.payload.paymentId || pi.payment_method === pm,
  );
  t.equal(intent?.status, 'requires_capture', 'Stripe holds the authorisation made with it');
  const carries = (body: string) => body.replace(/[\s-]/g, '').includes(NUMBER.replace(/ /g, ''));
  t.same(
    requests.filter((r) => r.url.startsWith(hub.baseUrl) && carries(r.body)).map((r) => r.url),
    [],
    'no request to the hub carries the card number',
  );
  t.same(
    requests
      .filter((r) => carries(r.body))
      .map((r) => new URL(r.url).origin + new URL(r.url).pathname),
    [`${stripeOrigin}/v1/payment_methods`],
    "the card went to Stripe's API only, from the Payment Element's frame",
  );
  t.same(problems, [], 'no page errors or CSP violations');
});
