// JSON bodies carry exact types. `amountMinor: true` once charged 1 cent and
// `"5000"`, `[5000]`, `days: "3"`, `writeProtect: "false"` were coerced and accepted; each is
// now 400 naming the field, and nothing is charged. Querystrings keep their text -> number.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { CARD, startRentalHub } from './helpers/rental-hub.js';

t.test('wrong JSON types are 400 naming the field; nothing is authorised', async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  await hub.kiosk('k1');
  const me = await hub.renter();
  const deposits: Array<[unknown, string]> = [
    [true, 'amountMinor'],
    ['5000', 'amountMinor'],
    [[5000], 'amountMinor'],
    [5000.5, 'amountMinor'],
  ];
  for (const [amountMinor, field] of deposits) {
    const r = await hub.api('POST', '/api/me/deposit', { amountMinor, card: CARD }, me.token);
    t.equal(r.status, 400, `deposit amountMinor ${JSON.stringify(amountMinor)}`);
    t.equal(r.body.error.code, 'VALIDATION');
    t.match(r.body.error.message, new RegExp(field), 'the message names the field');
  }
  const card = await hub.api(
    'POST',
    '/api/me/deposit',
    { amountMinor: 5000, card: { paymentMethod: 4242 } },
    me.token,
  );
  t.equal(card.status, 400, 'a payment-method id as a number');
  t.match(card.body.error.message, /paymentMethod/);
  t.same(await hub.sandbox.payments(), [], 'no payment was authorised');

  t.equal((await hub.deposit(me.token)).status, 200, 'the exact body works');
  const order = {
    kioskId: 'k1',
    diskTypeId: 't64',
    writeProtect: false,
    days: 1,
    card: { useSaved: true },
  };
  const wrong: Array<[Record<string, unknown>, string]> = [
    [{ days: '3' }, 'days'],
    [{ days: [3] }, 'days'],
    [{ writeProtect: 'false' }, 'writeProtect'],
    [{ writeProtect: 0 }, 'writeProtect'],
    [{ kioskId: 1 }, 'kioskId'],
  ];
  for (const [patch, field] of wrong) {
    for (const url of ['/api/orders', '/api/reservations']) {
      const r = await hub.api('POST', url, { ...order, ...patch }, me.token, {
        'idempotency-key': randomUUID(),
      });
      t.equal(r.status, 400, `${url} ${JSON.stringify(patch)}`);
      t.match(r.body.error.message, new RegExp(field), 'the message names the field');
    }
  }
  const extend = await hub.api('POST', '/api/rentals/rnt-x/extend', { days: '1' }, me.token);
  t.equal(extend.status, 400);
  t.match(extend.body.error.message, /days/);
  t.equal((await hub.sandbox.payments()).length, 1, 'only the deposit was ever authorised');

  // The operator API: bodies exact too; querystrings still read numbers from text.
  const op = await hub.admin('POST', '/api/operator/disk-types', {
    id: 't2',
    capacityBytes: '64000000000',
    contentId: 'c1',
    writeProtect: 'allowed',
    pricePerDayMinor: 100,
  });
  t.equal(op.status, 400);
  t.match(op.body.error.message, /capacityBytes/);
  const q = await hub.admin('GET', '/api/operator/orders?limit=5');
  t.equal(q.status, 200, 'querystring limit=5 is still read as a number');
  const near = await hub.api('GET', '/api/kiosks?near=52.5,13.4&limit=3');
  t.equal(near.status, 200);
  t.equal(near.body.length, 1);
});
