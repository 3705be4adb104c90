// Card data never reaches the hub's rental routes (issue 23 item 4): every route that takes a
// payment refuses a body carrying card details (CARD_DATA_REFUSED, before any money moves),
// whatever field it hides in; the sandbox's own card endpoint (the provider's side) turns a
// card into a payment-method id, which is all a rental route takes.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { findCardData, looksLikePan } from '../../../cloud-lite/http/card-data.js';
import { ADMIN_TOKEN, CARD, startRentalHub } from './helpers/rental-hub.js';

t.test('what counts as card data', async (t) => {
  t.ok(looksLikePan('4242424242424242'));
  t.ok(looksLikePan('4242 4242 4242 4242'), 'spaces');
  t.ok(looksLikePan('4000-0000-0000-0002'), 'dashes');
  t.ok(looksLikePan('378282246310005'), '15 digits (Amex)');
  t.notOk(looksLikePan('4242424242424241'), 'Luhn-invalid');
  t.notOk(looksLikePan('424242424242'), '12 digits');
  t.notOk(looksLikePan('pm_4242424242424242'), 'inside an id');
  t.ok(looksLikePan('charged twice on 4242-4242-4242-4242, sorry'), 'in text');
  t.notOk(looksLikePan('order 1733500000001 of 2026'), 'a Luhn-invalid number in text');
  t.equal(findCardData({ card: { paymentMethod: 'pm_card_visa' }, days: 2 }), undefined);
  t.equal(findCardData({ card: { cvc: '123' } }), 'body/card/cvc', 'a field named like one');
  t.equal(findCardData({ card: { card_number: 'x' } }), 'body/card/card_number');
  t.equal(findCardData({ a: [{ b: '4242 4242 4242 4242' }] }), 'body/a/0/b', 'any depth');
  t.equal(
    findCardData({ note: 4242424242424242 }),
    'body/note',
    'a card number sent as a JSON number',
  );
  t.equal(findCardData({ days: 14, amountMinor: 5000 }), undefined, 'small numbers are not cards');
  // Deeper than any payment schema: not walked (validation refuses it), and no stack overflow.
  let deep: unknown = '4242 4242 4242 4242';
  for (let i = 0; i < 200_000; i++) deep = [deep];
  t.equal(findCardData(deep), undefined, 'a 200,000-level body ends the walk at 32 levels');
});

t.test('every payment route refuses card details; the provider endpoint makes a pm_', async (t) => {
  const hub = await startRentalHub(t, { rental: { maxOpenRentals: 3 } });
  await hub.seedCatalog();
  await hub.kiosk('k1');
  const me = await hub.renter();
  const pan = '4242 4242 4242 4242';
  const full = { number: '4242424242424242', expMonth: 12, expYear: 2040, cvc: '123' };
  const order = (card: unknown) => ({
    kioskId: 'k1',
    diskTypeId: 't64',
    writeProtect: false,
    days: 1,
    card,
  });
  const key = () => ({ 'idempotency-key': randomUUID() });
  const refusals: [string, string, string, unknown, string][] = [
    ['deposit, a card object', 'POST', '/api/me/deposit', { amountMinor: 5000, card: full }, ''],
    [
      'deposit, a PAN as the payment method',
      'POST',
      '/api/me/deposit',
      { amountMinor: 5000, card: { paymentMethod: pan } },
      '',
    ],
    ['order, a card object', 'POST', '/api/orders', order(full), 'key'],
    ['order, a PAN anywhere', 'POST', '/api/orders', { ...order(CARD), note: pan }, 'key'],
    ['reservation, a card object', 'POST', '/api/reservations', order(full), 'key'],
    ['extension, a CVC', 'POST', '/api/rentals/r-1/extend', { days: 1, cvc: '123' }, 'key'],
  ];
  for (const [what, method, url, body, k] of refusals) {
    const r = await hub.api(method, url, body, me.token, k ? key() : {});
    t.equal(r.status, 400, `${what}: 400`);
    t.equal(r.body.error.code, 'CARD_DATA_REFUSED', `${what}: CARD_DATA_REFUSED`);
    t.notMatch(JSON.stringify(r.body), /4242 ?4242|"123"/, `${what}: the value is not echoed`);
  }
  const refund = await hub.api(
    'POST',
    '/api/operator/payments/p-1/refund',
    { reason: `card ${pan} charged twice` },
    ADMIN_TOKEN,
    key(),
  );
  t.equal(refund.body.error.code, 'CARD_DATA_REFUSED', 'operator refund reason');
  t.same(await hub.sandbox.payments(), [], 'no money moved');
  t.same(await hub.server.store.transaction((tx) => tx.orders.listByUser(me.userId, 10)), []);

  const config = await hub.api('GET', '/api/payments/config');
  t.same(config.body, {
    provider: 'sandbox',
    stripe: null,
    sandbox: { paymentMethodsUrl: '/sandbox-provider/payment-methods' },
  });
  const made = await hub.api('POST', config.body.sandbox.paymentMethodsUrl, {
    ...full,
    number: pan,
  });
  t.equal(made.status, 201, 'the sandbox card endpoint takes the card');
  t.match(made.body, { id: /^pm_\w+$/, last4: '4242' });
  const expired = await hub.api('POST', '/sandbox-provider/payment-methods', {
    ...full,
    expYear: 2001,
  });
  t.equal(expired.body.error.code, 'CARD_DECLINED', 'an expired card is refused there');
  const paid = await hub.api(
    'POST',
    '/api/me/deposit',
    { amountMinor: 5000, card: { paymentMethod: made.body.id }, saveCard: true },
    me.token,
  );
  t.equal(paid.status, 200, 'the deposit is paid with the payment-method id');
  const meNow = await hub.api('GET', '/api/me', undefined, me.token);
  t.same(meNow.body.savedCard, { last4: '4242' }, "the provider told the card's last digits");
  const o = await hub.api(
    'POST',
    '/api/orders',
    order({ paymentMethod: made.body.id }),
    me.token,
    key(),
  );
  t.equal(o.status, 201, 'an order paid with it');
});
