// A declined card is never saved. Every refused order (unknown kiosk,
// declined card, expiry 01/2001) used to replace the renter's saved card, and later
// "use saved card" payments failed. A card is saved only after a payment with it was
// authorised, and only when the request asks (`saveCard: true`).
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { CARD, startRentalHub } from './helpers/rental-hub.js';

const OTHER = { paymentMethod: 'pm_card_mastercard' };
const DECLINES = { paymentMethod: 'pm_card_chargeDeclined' };
const POOR = { paymentMethod: 'pm_card_chargeDeclinedInsufficientFunds' };
const UNKNOWN = { paymentMethod: 'pm_nosuchmethod' };

t.test('only an authorised card the renter asked to save is saved', async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  await hub.kiosk('k1');
  const me = await hub.renter();
  const saved = async () =>
    (await hub.api('GET', '/api/me', undefined, me.token)).body.savedCard?.last4 ?? null;
  const order = (card: unknown, extra: Record<string, unknown> = {}) =>
    hub.api(
      'POST',
      '/api/orders',
      { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card, ...extra },
      me.token,
      { 'idempotency-key': randomUUID() },
    );

  const plain = await hub.api(
    'POST',
    '/api/me/deposit',
    { amountMinor: 5000, card: CARD },
    me.token,
  );
  t.equal(plain.status, 200, 'deposit paid');
  t.equal(await saved(), null, 'not asked: not saved');
  t.equal((await order({ useSaved: true })).body.error.code, 'NO_SAVED_CARD');

  const declinedTopUp = await hub.api(
    'POST',
    '/api/me/deposit',
    { amountMinor: 100, card: DECLINES, saveCard: true },
    me.token,
  );
  t.equal(declinedTopUp.body.error.code, 'CARD_DECLINED');
  t.equal(await saved(), null, 'a declined top-up card is not saved');
  const asked = await hub.api(
    'POST',
    '/api/me/deposit',
    { amountMinor: 100, card: CARD, saveCard: true },
    me.token,
  );
  t.equal(asked.status, 200);
  t.equal(await saved(), '4242', 'authorised and asked: saved');

  // One after another: the renter may have one order in progress (rental.maxOpenRentals 1), so
  // orders sent at once are refused by that limit before their cards are tried.
  const refusals: Array<[string, () => ReturnType<typeof order>]> = [
    ['declined', () => order(DECLINES, { saveCard: true })],
    ['insufficient funds', () => order(POOR, { saveCard: true })],
    ['unknown payment method', () => order(UNKNOWN, { saveCard: true })],
    ['unknown kiosk', () => order(OTHER, { saveCard: true, kioskId: 'nowhere' })],
    ['type not offered', () => order(OTHER, { saveCard: true, diskTypeId: 'nope' })],
  ];
  const codes: string[] = [];
  for (const [what, send] of refusals) {
    const r = await send();
    codes.push(r.body.error.code);
    t.ok(r.status >= 400, `${what}: refused (${r.status} ${r.body.error.code})`);
    t.equal(await saved(), '4242', `${what}: the saved card is kept`);
  }
  t.equal(codes[0], 'CARD_DECLINED');
  t.equal(codes[2], 'CARD_DECLINED', 'an unknown payment method is declined');
  const declinedReservation = await hub.api(
    'POST',
    '/api/reservations',
    {
      kioskId: 'k1',
      diskTypeId: 't64',
      writeProtect: false,
      days: 1,
      card: DECLINES,
      saveCard: true,
    },
    me.token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(declinedReservation.body.error.code, 'CARD_DECLINED');
  t.equal(await saved(), '4242', 'a declined reservation card is not saved');

  const withSaved = await order({ useSaved: true });
  t.equal(withSaved.status, 201, 'the saved card still pays');
  t.equal(withSaved.body.order.state, 'dispensing');
  const authorised = (await hub.sandbox.payments()).filter(
    (x) => x.amountMinor === 200 && x.state === 'authorised',
  );
  t.equal(authorised.length, 1, 'the order was authorised with the saved card');
});

t.test('an authorised order saves its card only with saveCard: true', async (t) => {
  const hub = await startRentalHub(t, { rental: { maxOpenRentals: 2 } }); // two orders
  await hub.seedCatalog();
  await hub.kiosk('k1');
  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  const saved = async () =>
    (await hub.api('GET', '/api/me', undefined, me.token)).body.savedCard?.last4 ?? null;
  t.equal(await saved(), '4242');
  const body = { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: OTHER };
  const notAsked = await hub.api('POST', '/api/orders', body, me.token, {
    'idempotency-key': randomUUID(),
  });
  t.equal(notAsked.status, 201);
  t.equal(await saved(), '4242', 'not asked: the saved card stays');
  const askedOrder = await hub.api('POST', '/api/orders', { ...body, saveCard: true }, me.token, {
    'idempotency-key': randomUUID(),
  });
  t.equal(askedOrder.status, 201);
  t.equal(await saved(), '4444', 'asked and authorised: saved');
});
