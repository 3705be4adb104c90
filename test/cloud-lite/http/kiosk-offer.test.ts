// The public routes the QR landing page reads before anyone logs in: GET /api/terms and
// GET /api/kiosks/{id}/offer (limited per client address).
import t from 'tap';
import { OFFER_LIMIT } from '../../../cloud-lite/http/routes/catalog-routes.js';
import { readySlot, seedCatalog, seedKiosk } from '../../e2e/browser/fixtures/fleet.js';
import { startWebHub } from '../web/web-hub.js';

interface ErrorBody {
  error: { code: string; retryAfterSeconds: number };
}

t.test('terms and a kiosk offer, without a session', async (t) => {
  const hub = await startWebHub(t, {
    overrides: {
      rental: { currency: 'CNY', minDepositMinor: 20000, overdueFeePerDayMinor: 500 },
    } as never,
  });
  await seedCatalog(hub);
  await seedKiosk(
    t,
    hub,
    'kiosk-1',
    { name: 'Central Station', address: 'Platform 1', lat: 52.5, lng: 13.4 },
    [readySlot(7, 'disk-7'), readySlot(8, 'disk-8')],
  );

  const terms = await fetch(`${hub.baseUrl}/api/terms`).then((r) => r.json());
  t.match(terms, {
    currency: 'CNY',
    depositMinor: 20000,
    overdueFeePerDayMinor: 500,
    overdueMaxDays: 10,
    lostDiskChargeMinor: 5000,
    pickupWindowSeconds: 60,
  });

  const res = await fetch(`${hub.baseUrl}/api/kiosks/kiosk-1/offer`);
  t.equal(res.status, 200, 'no session needed');
  const offer = (await res.json()) as {
    kiosk: unknown;
    diskTypes: Array<Record<string, unknown>>;
    terms: unknown;
  };
  t.same(offer.kiosk, {
    id: 'kiosk-1',
    name: 'Central Station',
    address: 'Platform 1',
    online: true,
    lat: 52.5,
    lng: 13.4,
  });
  t.equal(offer.diskTypes.length, 1);
  t.match(offer.diskTypes[0], {
    id: 'tb1-maps',
    contentTitle: 'Maps of Europe',
    pricePerDayMinor: 300,
    maxDays: 14,
    available: 2,
  });
  t.same(offer.terms, terms, 'the same terms');

  const missing = await fetch(`${hub.baseUrl}/api/kiosks/nope/offer`);
  t.equal(missing.status, 404);
  t.equal(((await missing.json()) as ErrorBody).error.code, 'KIOSK_NOT_FOUND');
});

t.test('the offer is limited per client address', async (t) => {
  const hub = await startWebHub(t);
  await seedCatalog(hub);
  await seedKiosk(t, hub, 'kiosk-1', { name: 'A', address: 'B', lat: 1, lng: 1 }, [
    readySlot(1, 'disk-1'),
  ]);
  // The hits before this test's loop: none; the limit is OFFER_LIMIT.max a window.
  const statuses: number[] = [];
  for (let i = 0; i < OFFER_LIMIT.max; i++) {
    statuses.push((await fetch(`${hub.baseUrl}/api/kiosks/kiosk-1/offer`)).status);
  }
  t.same([...new Set(statuses)], [200], `the first ${OFFER_LIMIT.max} are answered`);
  const over = await fetch(`${hub.baseUrl}/api/kiosks/kiosk-1/offer`);
  t.equal(over.status, 429);
  const body = (await over.json()) as ErrorBody;
  t.equal(body.error.code, 'TOO_MANY_ATTEMPTS');
  t.ok(body.error.retryAfterSeconds >= 1 && body.error.retryAfterSeconds <= 60);
  // Terms stay open: they cost nothing to answer.
  t.equal((await fetch(`${hub.baseUrl}/api/terms`)).status, 200);
});
