import t from 'tap';
import { API_ERRORS, REFUSAL_REASONS } from '../../../cloud-lite/error-codes.js';
import { ApiClient, listOf } from '../../../cloud-lite/web/src/lib/api-client.js';
import { parseCard, SANDBOX_CARDS } from '../../../cloud-lite/web/src/lib/card.js';
import {
  ApiError,
  describeError,
  describeFailure,
  describeReasons,
  sentenceFor,
} from '../../../cloud-lite/web/src/lib/errors.js';
import {
  formatBytes,
  formatDistance,
  formatDuration,
  formatMoney,
  formatRelative,
  moneyForInput,
  parseMoney,
  parseSize,
  sizeForInput,
} from '../../../cloud-lite/web/src/lib/format.js';
import {
  directionsLinks,
  distanceMeters,
  parseLatLng,
} from '../../../cloud-lite/web/src/lib/geo.js';
import { IdempotencyKeys, randomUuid } from '../../../cloud-lite/web/src/lib/idempotency.js';
import { toMapCoords } from '../../../cloud-lite/web/src/lib/map-coords.js';
import { SseParser } from '../../../cloud-lite/web/src/lib/sse-parser.js';

// Every error code the HTTP API answers (its one vocabulary), every refusal reason, and the
// client's own ENETWORK.
const API_CODES = [...Object.keys(API_ERRORS), ...Object.keys(REFUSAL_REASONS), 'ENETWORK'];

t.test('every API refusal code has its own sentence', async (t) => {
  for (const code of API_CODES) {
    const s = sentenceFor(code);
    t.type(s, 'string', code);
    t.match(s, /^[A-Z].*\.$/, `${code}: a full sentence`);
    t.notMatch(s, new RegExp(code), `${code}: not the bare code`);
  }
  t.equal(
    describeError(new ApiError(402, 'CARD_DECLINED', 'card declined')),
    'Your card was declined. Use another card.',
  );
  t.equal(
    describeError(new ApiError(429, 'TOO_MANY_ATTEMPTS', 'x', { retryAfterSeconds: 300 })),
    'Too many attempts. Try again in 5 min.',
  );
  t.equal(
    describeError(new ApiError(429, 'TOO_MANY_ATTEMPTS', 'x', { retryAfterSeconds: 30 })),
    'Too many attempts. Try again in 30 sec.',
  );
  t.equal(
    describeError(
      new ApiError(403, 'NOT_ALLOWED', 'x', { reasons: ['NO_DEPOSIT', 'OVERDUE_RENTAL'] }),
    ),
    'You may not rent right now. Pay a deposit first: it covers a disk that is not returned. Return your overdue disk first.',
  );
  t.equal(
    describeError(
      new ApiError(403, 'NOT_ALLOWED', 'x', { reasons: ['OPEN_RENTAL_LIMIT'], maxOpenRentals: 2 }),
    ),
    'You may not rent right now. You already have 2 disks out or on the way (reservations count). Return one first.',
    'a limit reason names the limit',
  );
  t.equal(
    describeError(new ApiError(418, 'SOMETHING_NEW', 'The server says why.')),
    'The server says why.',
    'unknown code: the server message',
  );
  t.equal(describeError(new Error('Enter the card number.')), 'Enter the card number.');
  t.same(describeReasons(['NO_DEPOSIT', 'ODD']), [sentenceFor('NO_DEPOSIT'), 'ODD']);
  t.match(describeFailure('EJAM'), /could not push the disk out/);
  t.match(describeFailure(null), /Nothing was charged/);
});

t.test('formatting', async (t) => {
  t.equal(formatMoney(1250, 'EUR'), '€12.50');
  t.equal(formatMoney(0, 'EUR'), '€0.00');
  t.equal(formatMoney(199, 'EURO'), '1.99 EURO', 'malformed currency code falls back');
  t.equal(formatBytes(2e12), '2 TB');
  t.equal(formatBytes(500e9), '500 GB');
  t.equal(formatBytes(1.5e9), '1.5 GB');
  t.equal(formatBytes(512), '512 B');
  t.equal(formatDistance(850.4), '850 m');
  t.equal(formatDistance(1234), '1.2 km');
  t.equal(formatDistance(25_300), '25 km');
  t.equal(formatDistance(null), '');
  t.equal(formatDuration(42), '42 sec');
  t.equal(formatDuration(180), '3 min');
  t.equal(formatDuration(3900), '1 hr 5 min');
  const now = new Date('2025-03-01T12:00:00Z');
  t.equal(formatRelative('2025-03-03T12:00:00Z', now), 'in 2 days');
  t.equal(formatRelative('2025-03-01T09:00:00Z', now), '3 hours ago');
  t.equal(formatRelative('2025-03-01T12:00:20Z', now), 'in less than a minute');
});

t.test('geo: distances, parsing', async (t) => {
  const paris = { lat: 48.8566, lng: 2.3522 };
  const london = { lat: 51.5074, lng: -0.1278 };
  const d = distanceMeters(paris, london);
  t.ok(d > 340_000 && d < 346_000, `Paris-London ${d} m`);
  t.equal(distanceMeters(paris, paris), 0);
  t.same(parseLatLng('48.85, 2.35'), { lat: 48.85, lng: 2.35 });
  t.same(parseLatLng('48.85', '2.35'), { lat: 48.85, lng: 2.35 });
  t.equal(parseLatLng('91', '0'), undefined);
  t.equal(parseLatLng('abc', '0'), undefined);
  t.equal(parseLatLng('', '0'), undefined);
});

t.test('SSE parser: any split of the stream gives the same messages', async (t) => {
  const stream =
    ': keep-alive\r\n\r\nevent: order\ndata: {"order":{"id":"o1","state":"authorised"}}\n\n' +
    'event: order\r\ndata: {"order":\r\ndata: {"id":"o1"}}\r\nid: 7\r\n\r\ndata: plain\n\n';
  const expected = [
    { event: 'order', data: '{"order":{"id":"o1","state":"authorised"}}' },
    { event: 'order', data: '{"order":\n{"id":"o1"}}', id: '7' },
    { event: 'message', data: 'plain', id: '7' },
  ];
  for (let i = 0; i <= stream.length; i++) {
    const p = new SseParser();
    const got = [...p.feed(stream.slice(0, i)), ...p.feed(stream.slice(i))];
    t.same(got, expected, `split at ${i}`);
    if (got.length !== expected.length) break;
  }
});

t.test('idempotency keys: same body same key, changed body new key', async (t) => {
  let n = 0;
  const keys = new IdempotencyKeys(() => `k${++n}`);
  const a = { kioskId: 'k1', card: { paymentMethod: 'pm_a' } };
  t.equal(keys.keyFor(a), 'k1');
  t.equal(keys.keyFor({ ...a }), 'k1', 'retry of the same body');
  t.equal(keys.keyFor({ ...a, card: { paymentMethod: 'pm_b' } }), 'k2', 'another card');
  keys.reset();
  t.equal(keys.keyFor(a), 'k3');
  t.match(randomUuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

t.test('card form parsing', async (t) => {
  const now = new Date('2025-06-15T00:00:00Z');
  t.same(parseCard({ number: '4242 4242 4242 4242', expiry: '12/27', cvc: '123' }, now), {
    card: { number: '4242424242424242', expMonth: 12, expYear: 2027, cvc: '123' },
  });
  t.match(parseCard({ number: '4242', expiry: '12/27', cvc: '123' }, now), {
    error: /card number/,
  });
  t.match(parseCard({ number: '4242424242424242', expiry: '13/27', cvc: '123' }, now), {
    error: /month/,
  });
  t.match(parseCard({ number: '4242424242424242', expiry: '05/25', cvc: '123' }, now), {
    error: /expired/,
  });
  t.match(parseCard({ number: '4242424242424242', expiry: '06/25', cvc: '1' }, now), {
    error: /CVC/,
  });
  t.equal(SANDBOX_CARDS.length, 4, 'the four sandbox cards of the contract');
});

t.test('API client: error bodies, network failures, 401, idempotency header', async (t) => {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  let answer: () => Response = () => new Response('{}');
  const bearer = {
    value: null as string | null,
    get() {
      return this.value;
    },
    set(v: string | null) {
      this.value = v;
    },
  };
  const sessions: boolean[] = [];
  const api = new ApiClient({
    baseUrl: 'http://x',
    bearer,
    fetch: (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return answer();
    }) as typeof fetch,
    onSessionChange: (on) => sessions.push(on),
  });

  answer = () =>
    new Response(
      JSON.stringify({
        error: { code: 'CARD_DECLINED', message: 'the card was declined', reasons: [] },
        extra: 1,
      }),
      { status: 402 },
    );
  const req = {
    kioskId: 'k1',
    diskTypeId: 't1',
    writeProtect: true,
    days: 1,
    card: { paymentMethod: 'pm_card_chargeDeclined' },
  };
  const err = await api.createOrder(req, 'key-1').catch((e) => e);
  t.type(err, ApiError);
  t.equal(err.status, 402);
  t.equal(err.code, 'CARD_DECLINED');
  t.same(err.details, { extra: 1, reasons: [] });
  const h = calls[0]!.init.headers as Record<string, string>;
  t.equal(h['idempotency-key'], 'key-1');
  t.equal(h.authorization, undefined, 'no token: the session is the cookie');
  t.equal(calls[0]!.init.credentials, 'same-origin', 'the cookie goes along');
  t.equal(calls[0]!.url, 'http://x/api/orders');
  t.same(JSON.parse(String(calls[0]!.init.body)), req);

  answer = () => new Response('<html>proxy error</html>', { status: 502 });
  const e502 = await api.me().catch((e) => e);
  t.equal(e502.code, 'HTTP_502');

  answer = () => {
    throw new TypeError('fetch failed');
  };
  const net = await api.me().catch((e) => e);
  t.equal(net.code, 'ENETWORK');
  t.equal(net.status, 0);

  answer = () =>
    new Response(JSON.stringify({ token: 'tok-1', user: { id: 'u0', role: 'renter' } }), {
      status: 200,
    });
  await api.login('a@b.c', 'long-enough-pw');
  t.ok(api.signedIn, 'a login starts the session');
  t.same(sessions, [true]);

  answer = () =>
    new Response(JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'no session' } }), {
      status: 401,
    });
  await api.me().catch(() => undefined);
  t.notOk(api.signedIn, 'a 401 ends the session');
  t.same(sessions, [true, false]);

  answer = () =>
    new Response(JSON.stringify({ status: 'confirmation-sent' }), {
      status: 202,
    });
  t.equal(await api.register({ email: 'a@b.c', password: 'long-enough-pw' }), undefined);
  t.notOk(api.signedIn, 'register alone does not log in');
  answer = () =>
    new Response(JSON.stringify({ token: 'tok-2', user: { id: 'u1', role: 'renter' } }), {
      status: 201,
    });
  const user = await api.confirmRegistration('link-token');
  t.equal(user.id, 'u1');
  t.same(JSON.parse(String(calls.at(-1)!.init.body)), { token: 'link-token' });
  t.ok(api.signedIn, 'the confirmed registration starts the session');

  bearer.set('admin-token-1');
  answer = () => new Response('{"kiosks":[]}');
  await api.opsKiosks();
  t.equal(
    (calls.at(-1)!.init.headers as Record<string, string>).authorization,
    'Bearer admin-token-1',
    'the admin token goes as a bearer header',
  );
  answer = () =>
    new Response('{"error":{"code":"UNAUTHENTICATED","message":"x"}}', { status: 401 });
  await api.opsKiosks().catch(() => undefined);
  t.equal(bearer.value, null, 'a refused admin token is forgotten');

  t.same(listOf([1, 2], 'x'), [1, 2]);
  t.same(listOf({ orders: [3] }, 'orders'), [3]);
  t.same(listOf({ nope: 1 }, 'orders'), []);
});

t.test('API client: SSE stream over fetch delivers parsed messages', async (t) => {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      const enc = new TextEncoder();
      c.enqueue(enc.encode('event: order\ndata: {"order":{"id":"o1","st'));
      c.enqueue(enc.encode('ate":"dispensing","slot":7}}\n\n'));
      c.enqueue(enc.encode('event: order\ndata: {"order":{"id":"o1","state":"completed"}}\n\n'));
      c.close();
    },
  });
  const api = new ApiClient({
    baseUrl: '',
    fetch: (async () =>
      new Response(body, { headers: { 'content-type': 'text/event-stream' } })) as typeof fetch,
  });
  const got: unknown[] = [];
  await api.stream('/api/orders/o1/events', (ev, data) => got.push([ev, data]));
  t.same(got, [
    ['order', { order: { id: 'o1', state: 'dispensing', slot: 7 } }],
    ['order', { order: { id: 'o1', state: 'completed' } }],
  ]);
});

t.test('map positions: GCJ-02 for Chinese tiles, directions links', async (t) => {
  const tiananmen = { lat: 39.9087, lng: 116.3975 };
  t.same(toMapCoords(tiananmen, 'wgs84'), tiananmen, 'WGS-84 tiles: unchanged');
  const gcj = toMapCoords(tiananmen, 'gcj02');
  const shift = distanceMeters(tiananmen, gcj);
  // GCJ-02 moves Beijing about 0.0014 deg north and 0.0062 deg east (roughly 500 m).
  t.ok(gcj.lat > tiananmen.lat && gcj.lng > tiananmen.lng, 'moved north-east');
  t.ok(shift > 300 && shift < 800, `shifted by ${Math.round(shift)} m`);
  const berlin = { lat: 52.52, lng: 13.4 };
  t.same(toMapCoords(berlin, 'gcj02'), berlin, 'outside China GCJ-02 is WGS-84');
  t.same(
    directionsLinks(
      { lat: 52.5251, lng: 13.3694, name: 'Hbf & S' },
      'https://m.example/r?to={lat},{lng}',
    ),
    {
      app: 'geo:52.525100,13.369400?q=52.525100,13.369400(Hbf%20%26%20S)',
      web: 'https://m.example/r?to=52.525100,13.369400',
    },
  );
  t.same(parseLatLng(' 52.52 ,13.40 '), { lat: 52.52, lng: 13.4 }, 'one field, spaces');
});

t.test('sizes and amounts typed by operators', async (t) => {
  t.equal(parseSize('40 GB'), 40e9);
  t.equal(parseSize('37.25GiB'), 37.25 * 2 ** 30, 'binary units are powers of 1024');
  t.equal(parseSize('1,5 tb'), 1.5e12, 'a decimal comma, any case');
  t.equal(parseSize('4096'), 4096, 'bare bytes');
  for (const bad of ['', 'GB', '-1 GB', '1e9', '40 GBs', '2 XB'])
    t.equal(parseSize(bad), undefined, bad);
  t.equal(sizeForInput(40e9), '40 GB');
  t.equal(sizeForInput(1.5e12), '1.5 TB');
  t.equal(parseSize(sizeForInput(123_456_789_000)), 123_456_789_000, 'shown as it parses back');
  t.equal(parseMoney('3.5'), 350);
  t.equal(parseMoney('3,05'), 305);
  t.equal(parseMoney('0'), 0);
  for (const bad of ['', '3.555', '-1', 'abc', '1.2.3']) t.equal(parseMoney(bad), undefined, bad);
  t.equal(moneyForInput(350), '3.50');
});
