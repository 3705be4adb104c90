// Extensions stay within the rules: the whole rental stays within the disk type's maxDays
// (`extend {days:365}` twice plus parallel +1s included), a quote prices an extension before it
// is charged, and parallel extensions are decided one after another: no overshoot, each charged
// once for its own days.
import { randomUUID } from 'node:crypto';
import t, { type Test } from 'tap';
import { CARD, DAY_MS, type RentalHub, startRentalHub, waitFor } from './helpers/rental-hub.js';

const MAX_DAYS = 14; // seedCatalog's t64, 200 per day

/** A renter with a rental of `days` days open at k1 (deposit card saved unless `saveCard` false). */
async function rented(t: Test, days: number, saveCard = true) {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  const k = await hub.kiosk('k1');
  const me = await hub.renter();
  const dep = await hub.api(
    'POST',
    '/api/me/deposit',
    { amountMinor: 5000, card: CARD, saveCard },
    me.token,
  );
  t.equal(dep.status, 200);
  const o = await hub.api(
    'POST',
    '/api/orders',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days, card: CARD },
    me.token,
    { 'idempotency-key': randomUUID() },
  );
  const cmd = await k.waitForCommand((c) => c.action === 'Dispense');
  await k.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId as string,
    orderId: o.body.order.id,
    slot: cmd.payload.slot as number,
    diskId: cmd.payload.diskId as string,
    outcome: 'taken',
  });
  const done = await hub.waitOrder(me.token, o.body.order.id, (x) => x.state === 'completed');
  const rental = (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body[0];
  t.equal(rental.id, done.rentalId);
  return { hub, me, rental };
}

const extend = (hub: RentalHub, token: string, id: string, body: unknown, key?: string) =>
  hub.api('POST', `/api/rentals/${id}/extend`, body, token, key ? { 'idempotency-key': key } : {});
const quote = (hub: RentalHub, token: string, id: string, days: number) =>
  hub.api('GET', `/api/rentals/${id}/extension-quote?days=${days}`, undefined, token);
const rentalOf = async (hub: RentalHub, token: string) =>
  (await hub.api('GET', '/api/me/rentals', undefined, token)).body[0];
const extensionCharges = (r: { charges: Array<{ kind: string; amountMinor: number }> }) =>
  r.charges.filter((c) => c.kind === 'extension').map((c) => c.amountMinor);
const lengthDays = (r: { startedAt: string; dueAt: string }) =>
  Math.round((Date.parse(r.dueAt) - Date.parse(r.startedAt)) / DAY_MS);

t.test('the quote prices an extension and charges nothing; maxDays bounds it', async (t) => {
  const { hub, me, rental } = await rented(t, 1);
  const before = (await hub.sandbox.ledger()).length;
  const q = await quote(hub, me.token, rental.id, 13);
  t.equal(q.status, 200);
  t.match(q.body.quote, {
    rentalId: rental.id,
    days: 13,
    amountMinor: 2600,
    currency: 'EUR',
    pricePerDayMinor: 200,
    dueAt: rental.dueAt,
    newDueAt: new Date(Date.parse(rental.dueAt) + 13 * DAY_MS).toISOString(),
    maxDays: MAX_DAYS,
    daysSoFar: 1,
    maxExtraDays: 13,
    payWith: 'card',
    cardLast4: '4242',
  });
  const tooLong = await quote(hub, me.token, rental.id, 14);
  t.equal(tooLong.status, 409);
  t.equal(tooLong.body.error.code, 'RENTAL_TOO_LONG');
  t.equal(tooLong.body.error.maxExtraDays, 13);
  t.equal((await hub.sandbox.ledger()).length, before, 'quoting moved no money');

  for (const days of [365, 14]) {
    const r = await extend(hub, me.token, rental.id, { days });
    t.equal(r.status, 409, `extend ${days} days`);
    t.equal(r.body.error.code, 'RENTAL_TOO_LONG');
  }
  t.equal((await hub.sandbox.ledger()).length, before, 'nothing charged for refused extensions');
  const ok = await extend(hub, me.token, rental.id, { days: 13, quotedAmountMinor: 2600 });
  t.equal(ok.status, 200);
  t.equal(lengthDays(ok.body.rental), MAX_DAYS, 'extended to exactly maxDays');
  t.same(extensionCharges(ok.body.rental), [2600]);
  const more = await extend(hub, me.token, rental.id, { days: 1 });
  t.equal(more.body.error?.code, 'RENTAL_TOO_LONG', 'nothing left');
  t.equal(more.body.error?.maxExtraDays, 0);
  const other = await hub.renter();
  t.equal((await quote(hub, other.token, rental.id, 1)).status, 404, "another renter's rental");
});

t.test('a quote that no longer matches the price is refused before charging', async (t) => {
  const { hub, me, rental } = await rented(t, 1);
  const q = (await quote(hub, me.token, rental.id, 2)).body.quote;
  await hub.admin('POST', '/api/operator/disk-types', {
    id: 't64',
    capacityBytes: 64e9,
    contentId: 'c1',
    writeProtect: 'allowed',
    pricePerDayMinor: 300,
    maxDays: MAX_DAYS,
  });
  const before = (await hub.sandbox.ledger()).length;
  const r = await extend(hub, me.token, rental.id, { days: 2, quotedAmountMinor: q.amountMinor });
  t.equal(r.status, 409);
  t.equal(r.body.error.code, 'QUOTE_CHANGED');
  t.equal(r.body.error.amountMinor, 600);
  t.equal((await hub.sandbox.ledger()).length, before, 'nothing charged');
});

for (const payWith of ['card', 'deposit'] as const) {
  t.test(
    `five parallel +1s, 3 days left (${payWith}): 3 applied, 2 refused, each charged once`,
    async (t) => {
      const { hub, me, rental } = await rented(t, MAX_DAYS - 3, payWith === 'card');
      t.equal((await quote(hub, me.token, rental.id, 1)).body.quote.payWith, payWith);
      const all = await Promise.all(
        Array.from({ length: 5 }, () => extend(hub, me.token, rental.id, { days: 1 })),
      );
      t.same(
        all.map((r) => r.status).sort(),
        [200, 200, 200, 409, 409],
        'three extended, two refused',
      );
      for (const r of all.filter((x) => x.status === 409))
        t.equal(r.body.error.code, 'RENTAL_TOO_LONG');
      const after = await rentalOf(hub, me.token);
      t.equal(lengthDays(after), MAX_DAYS, 'due date exactly maxDays after the start');
      t.same(extensionCharges(after), [200, 200, 200], 'three extension charges');
      if (payWith === 'card') {
        const ext = (await hub.sandbox.payments()).filter(
          (p) => p.amountMinor === 200 && p.state === 'captured' && p.capturedMinor === 200,
        );
        // The order's own payment is 200 x 11 days; the extensions are 200 each.
        t.equal(ext.length, 3, 'three extension payments captured');
        t.ok(
          (await hub.sandbox.payments()).every((p) => p.captures <= 1),
          'none captured twice',
        );
      } else {
        const me2 = (await hub.api('GET', '/api/me', undefined, me.token)).body;
        t.equal(me2.deposit.heldMinor, 5000 - 600, 'three days taken from the deposit');
      }
    },
  );
}

t.test('the same Idempotency-Key twice, at once: one extension, one charge', async (t) => {
  const { hub, me, rental } = await rented(t, 1);
  const key = randomUUID();
  const [a, b] = await Promise.all([
    extend(hub, me.token, rental.id, { days: 2 }, key),
    extend(hub, me.token, rental.id, { days: 2 }, key),
  ]);
  t.same([a.status, b.status], [200, 200]);
  const after = await rentalOf(hub, me.token);
  t.equal(lengthDays(after), 3);
  t.same(extensionCharges(after), [400]);
  const other = await extend(hub, me.token, rental.id, { days: 3 }, key);
  t.equal(other.body.error?.code, 'IDEMPOTENCY_MISMATCH');
});

t.test('an extension whose payment fails gives its days back', async (t) => {
  const { hub, me, rental } = await rented(t, MAX_DAYS - 1);
  hub.sandbox.injectFault({ op: 'authorise', mode: 'timeout_before' });
  const failed = await extend(hub, me.token, rental.id, { days: 1 });
  t.equal(failed.status, 503);
  t.equal(failed.body.error.code, 'PAYMENT_UNAVAILABLE');
  const q = await waitFor('the failed extension to free its day', async () => {
    const r = await quote(hub, me.token, rental.id, 1);
    return r.status === 200 ? r.body.quote : undefined;
  });
  t.equal(q.maxExtraDays, 1);
  const ok = await extend(hub, me.token, rental.id, { days: 1 });
  t.equal(ok.status, 200);
  t.equal(lengthDays(ok.body.rental), MAX_DAYS);
  t.same(extensionCharges(ok.body.rental), [200], 'only the paid extension is charged');
});
