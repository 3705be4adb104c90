// The public routes the QR landing page reads before anyone logs in: GET /api/terms and
// GET /api/kiosks/{id}/offer (limited per client address), and the landing page itself
// (/k/<id>), which comes with that offer already in its HTML.
import { createHash } from 'node:crypto';
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

  // The QR page itself: the offer is in its HTML (markup and the app's JSON), no API call needed.
  const landing = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(hub.baseUrl + url, {
      headers: { accept: 'text/html', 'accept-encoding': 'gzip, deflate, br', ...headers },
    });
    const html = await res.text();
    const json = /<script type="application\/json" id="dk-preload">(.*?)<\/script>/s.exec(html);
    return { res, html, preload: json ? JSON.parse(json[1]!) : undefined };
  };
  const en = await landing('/k/kiosk-1', { 'accept-language': 'en-GB,en;q=0.9' });
  t.equal(en.res.status, 200);
  t.equal(en.res.headers.get('cache-control'), 'no-cache', 'rendered per request: stock is fresh');
  t.match(en.html, '<html lang="en">');
  t.match(en.html, '<title>Central Station · Disk rental</title>');
  t.match(en.html, '<h1>Central Station</h1>', 'the kiosk name');
  t.match(en.html, 'Platform 1', 'its address');
  t.match(en.html, /online · open now/, 'and that it is open');
  const type = /<li[^>]*data-disk-type="tb1-maps"[^>]*>(.*?)<\/li>/s.exec(en.html)?.[1] ?? '';
  t.match(type, '1 TB · Maps of Europe', 'the disk type with its content title');
  t.match(type, /3\.00 per day/, 'its price');
  t.match(type, '<dt>Ready now</dt><dd>2</dd>', 'its stock');
  t.match(
    type,
    /<button type="submit" name="type" value="tb1-maps" class="primary" aria-label="Rent 1 TB · Maps of Europe">Rent this disk<\/button>/,
    'a Rent button that works before the script runs (a GET of the checkout)',
  );
  t.match(en.html, /Deposit: CN¥200\.00/, 'the deposit');
  t.same(en.preload, { kioskId: 'kiosk-1', offer }, "the app's data: the API's offer");
  t.notMatch(
    en.html,
    /<script(?![^>]*\b(src=|type="application\/json"))[^>]*>/,
    'no inline script (the data is JSON)',
  );
  // The stylesheet is inline (no second request before the first paint), allowed by its hash.
  const styles = [...en.html.matchAll(/<style>(.*?)<\/style>/gs)].map((m) => m[1]!);
  t.equal(styles.length, 1, 'one inline stylesheet');
  const hash = createHash('sha256').update(styles[0]!).digest('base64');
  t.match(en.res.headers.get('content-security-policy'), `style-src 'self' 'sha256-${hash}';`);
  t.notMatch(en.res.headers.get('content-security-policy'), /unsafe-inline/);
  t.notMatch(en.html, /\sstyle=|<link rel="stylesheet"/, 'no style attribute, no stylesheet link');
  t.equal(en.res.headers.get('content-encoding'), 'br', 'compressed');

  // The header as the session cookie says: a signed-in renter sees "Log out" at once, not the
  // logged-out header until /api/me answers; a stale cookie renders the logged-out one.
  const header = (html: string) => /<header class="top">(.*?)<\/header>/s.exec(html)?.[1] ?? '';
  t.match(header(en.html), '>Log in<', 'no session: the logged-out header');
  const accounts = hub.server.rental.accounts;
  await accounts.createUser(
    { email: 'renter@example.test', password: 'correct horse battery', role: 'renter' },
    { actor: 'test' },
  );
  const { token } = await accounts.login('renter@example.test', 'correct horse battery', '::1');
  const mine = await landing('/k/kiosk-1', { cookie: `dk-lang=en; dk_session=${token}` });
  t.match(header(mine.html), '>Log out<', 'signed in: the signed-in header, rendered');
  t.notMatch(header(mine.html), '>Log in<');
  t.same(mine.preload, { kioskId: 'kiosk-1', offer, signedIn: true }, 'the app starts signed in');
  const stale = await landing('/k/kiosk-1', { cookie: 'dk-lang=en; dk_session=not-a-session' });
  t.match(header(stale.html), '>Log in<', 'a stale cookie: logged out');
  t.same(stale.preload, { kioskId: 'kiosk-1', offer });

  const zh = await landing('/k/kiosk-1', { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' });
  t.match(zh.html, '<html lang="zh-CN">', "in the browser's language");
  t.match(zh.html, '此处可租的硬盘');
  t.match(zh.html, /每天 ¥3\.00/);
  const chosen = await landing('/k/kiosk-1', {
    'accept-language': 'zh-CN',
    cookie: 'dk-lang=en',
  });
  t.match(chosen.html, 'Disks you can rent here', "the renter's own choice (cookie) first");

  // The checkout (?type=): the data, not the markup (its form needs the app).
  const checkout = await landing('/k/kiosk-1?type=tb1-maps');
  t.equal(checkout.res.status, 200);
  t.same(checkout.preload, { kioskId: 'kiosk-1', offer });
  t.match(checkout.html, '<div id="app"><noscript>');

  // An unknown kiosk: an HTML page that says so, with a way on, status 404.
  const none = await landing('/k/nope', { 'accept-language': 'en' });
  t.equal(none.res.status, 404);
  t.match(none.res.headers.get('content-type'), /text\/html/);
  t.match(none.html, '<h1>Kiosk nope</h1>');
  t.match(none.html, 'This kiosk does not exist. Scan the QR code again.');
  t.match(none.html, /<a class="button" href="\/kiosks">Find a kiosk<\/a>/);
  t.match(none.preload, { kioskId: 'nope', error: { code: 'KIOSK_NOT_FOUND' } });
  const hostile = await landing(`/k/${encodeURIComponent('</script><script>alert(1)</script>')}`);
  t.equal(hostile.res.status, 404);
  t.notMatch(hostile.html, '<script>alert(1)', 'the id is escaped in the markup and the data');
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
