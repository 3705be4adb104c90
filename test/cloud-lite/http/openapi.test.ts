// The HTTP API document (docs/openapi.json, served at /api/openapi.json): valid OpenAPI 3.1,
// every route in it, every answer of a renter's whole flow conforming to it (the rental tests'
// api() checks every answer too), and bad requests answered VALIDATION in the documented shape.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { RouteOptions } from 'fastify';
import t from 'tap';
import { API_ERRORS } from '../../../cloud-lite/error-codes.js';
import { ApiConformance, loadApiDocument } from '../../helpers/openapi-conformance.js';
import { CARD, startRentalHub } from '../rental/helpers/rental-hub.js';

const doc = loadApiDocument();
const conformance = new ApiConformance(doc);
const METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'];

t.test('the document is valid OpenAPI 3.1', async (t) => {
  const v = new Validator();
  const res = await v.validate(structuredClone(doc));
  t.equal(v.version, '3.1');
  t.ok(res.valid, JSON.stringify(res.errors));
  t.equal(doc.openapi, '3.1.0');
  const problems: string[] = [];
  for (const [p, ops] of Object.entries(doc.paths))
    for (const [m, op] of Object.entries(ops)) {
      if (!METHODS.includes(m)) continue;
      // biome-ignore lint/suspicious/noExplicitAny: plain JSON
      const o = op as any;
      const at = `${m} ${p}`;
      if (!o.summary) problems.push(`${at} has no summary`);
      if (!o['x-access']) problems.push(`${at} does not name who may call it`);
      for (const code of o['x-error-codes'] as string[])
        if (!Object.hasOwn(API_ERRORS, code)) problems.push(`${at}: ${code} is no error code`);
      const statuses = Object.keys(o.responses).map(Number);
      if (!statuses.some((s) => s < 400)) problems.push(`${at} documents no success`);
      for (const s of statuses.filter((s) => s >= 400))
        if (
          o.responses[s].content['application/json'].schema.$ref !==
          '#/components/schemas/ErrorBody'
        )
          problems.push(`${at} ${s} is not the error shape`);
    }
  t.same(problems, [], 'every operation: summary, access, its codes, success and error shapes');
});

t.test('every route is in the document, and the hub serves it with its UI', async (t) => {
  const routes: RouteOptions[] = [];
  const hub = await startRentalHub(t, { onRoute: (r) => void routes.push(r) });
  const documented = new Set<string>();
  for (const [p, ops] of Object.entries(doc.paths))
    for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${p}`);
  const seen = new Set<string>();
  // Pages, their assets and the document itself are no API: left out on purpose.
  const hiddenOk =
    /^\/($|k\/|login|register\/confirm|kiosks$|reserve\/|orders\/|reservations\/|me($|\/)|ops($|\/)|unsubscribe$|reset-password(\.js)?$|forgot-password$|favicon\.ico$|assets\/|api\/docs|api\/openapi\.json)/;
  for (const r of routes) {
    const p = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    for (const m of [r.method].flat()) {
      const key = `${m} ${p}`;
      if (r.schema?.hide) {
        t.match(p, hiddenOk, `${key} is left out on purpose`);
        continue;
      }
      // fastify adds a HEAD route to every GET; documented with its GET.
      if (m === 'HEAD' && documented.has(`GET ${p}`) && !documented.has(key)) continue;
      t.ok(documented.has(key), `${key} is in the document`);
      seen.add(key);
    }
  }
  t.same(
    [...documented].filter((k) => !seen.has(k)),
    [],
    'every documented operation is a route',
  );
  t.ok(seen.size >= 45, `${seen.size} operations`);

  // Generated at the first request: a hub nobody asks has not loaded swagger nor its UI.
  const loaded = (name: string) =>
    Object.keys(createRequire(import.meta.url).cache).some((f) =>
      f.includes(`/node_modules/@fastify/${name}/`),
    );
  t.notOk(loaded('swagger') || loaded('swagger-ui'), 'swagger not loaded before a request');
  const served = await fetch(`${hub.baseUrl}/api/openapi.json`);
  t.equal(served.status, 200);
  t.same(await served.json(), doc, 'the hub serves docs/openapi.json (lint checks it is current)');
  const ui = await fetch(`${hub.baseUrl}/api/docs/`);
  t.equal(ui.status, 200);
  t.match(await ui.text(), /swagger-ui/i, '/api/docs is Swagger UI');
  t.ok(loaded('swagger') && loaded('swagger-ui'), 'loaded at the first request');
  const css = await fetch(`${hub.baseUrl}/api/docs/static/swagger-ui.css`);
  t.equal(css.status, 200, "Swagger UI's own files");
  t.match(css.headers.get('content-type'), /text\/css/);
  t.match(await css.text(), /swagger-ui/);
  const head = await fetch(`${hub.baseUrl}/api/docs/static/swagger-ui.css`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '', 'HEAD: no body');
  t.equal((await fetch(`${hub.baseUrl}/api/docs/static/nothing.js`)).status, 404);
  const json = await fetch(`${hub.baseUrl}/api/docs/json`);
  t.same(await json.json(), doc, 'the UI reads the same document');
});

t.test('the conformance check refuses what the document does not say', async (t) => {
  const ok = { error: { code: 'NOT_FOUND', message: 'order x does not exist' } };
  t.equal(conformance.check('GET', '/api/orders/x', 404, 'application/json', ok), undefined);
  t.match(
    conformance.check('GET', '/api/orders/x', 200, 'application/json', { order: { id: 1 } }),
    /must have required property|must be string/,
  );
  t.match(
    conformance.check('GET', '/api/orders/x', 418, 'application/json', ok),
    /status 418 is not documented/,
  );
  t.match(
    conformance.check('GET', '/api/orders/x', 404, 'application/json', {
      error: { code: 'ENOTFOUND', message: 'm' },
    }),
    /must be equal to constant|must match a schema in anyOf/,
  );
  t.match(
    conformance.check('GET', '/api/me', 200, 'application/json', {
      user: { id: 'u', email: null, phone: null, name: null, role: 'renter' },
      deposit: { heldMinor: 0, currency: 'EUR' },
      savedCard: null,
      canRent: false,
      reasons: ['NO_DEPOSIT'],
      secret: 'x',
    }),
    /must NOT have additional properties/,
  );
});

/** Reads a Server-Sent Events stream to its end; each message's event name and parsed data. */
async function readStream(url: string, token: string) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  const messages = text
    .split('\n\n')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
      return event && data ? { event, data: JSON.parse(data) } : undefined;
    })
    .filter((m) => m !== undefined);
  return { res, messages };
}

t.test("a renter's whole flow, every answer as the document says", async (t) => {
  const hub = await startRentalHub(t);
  await hub.seedCatalog();
  const k1 = await hub.kiosk('k1');
  const email = `flow-${randomUUID().slice(0, 8)}@example.test`;
  const password = 'correct horse battery';
  // hub.api() checks every answer against docs/openapi.json; these also assert the flow.
  t.equal((await hub.api('POST', '/api/auth/register', { email, password })).status, 202);
  const sent = hub.mail.findLast((m) => m.to.email === email);
  if (sent?.kind !== 'confirm-registration') throw new Error('no confirmation link sent');
  const link = sent.link;
  const confirmed = await hub.api('POST', '/api/auth/register/confirm', {
    token: link.slice(link.indexOf('#') + 1),
  });
  t.equal(confirmed.status, 201);
  const login = await hub.api('POST', '/api/auth/login', { login: email, password });
  t.equal(login.status, 200);
  const token = login.body.token as string;
  t.same((await hub.api('GET', '/api/me', undefined, token)).body.reasons, ['NO_DEPOSIT']);
  t.equal(
    (
      await hub.api(
        'POST',
        '/api/me/deposit',
        { amountMinor: 5000, card: CARD, saveCard: true },
        token,
      )
    ).body.deposit.heldMinor,
    5000,
  );
  t.equal((await hub.api('GET', '/api/content')).body[0].id, 'c1');
  const near = await hub.api('GET', '/api/kiosks?near=52.5,13.4&limit=5');
  t.equal(near.body[0].id, 'k1');
  const session = await hub.api('POST', '/api/kiosks/k1/session', {}, token);
  t.equal(session.body.canRent, true);

  const key = randomUUID();
  const body = {
    kioskId: 'k1',
    diskTypeId: 't64',
    writeProtect: false,
    days: 2,
    card: { useSaved: true },
  };
  const created = await hub.api('POST', '/api/orders', body, token, { 'idempotency-key': key });
  t.equal(created.status, 201);
  const again = await hub.api('POST', '/api/orders', body, token, { 'idempotency-key': key });
  t.equal(again.status, 200, 'the same key and body: the same order');
  t.equal(again.body.order.id, created.body.order.id);
  const orderId = created.body.order.id as string;
  const cmd = await k1.waitForCommand((c) => c.action === 'Dispense');
  const stream = readStream(`${hub.baseUrl}/api/orders/${orderId}/events`, token);
  await k1.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId,
    orderId,
    slot: cmd.payload.slot as number,
    diskId: cmd.payload.diskId as string,
    outcome: 'taken',
  });
  const { res, messages } = await stream;
  t.equal(
    conformance.check(
      'GET',
      `/api/orders/${orderId}/events`,
      res.status,
      res.headers.get('content-type'),
      undefined,
    ),
    undefined,
    'the stream is the documented media type',
  );
  const orderSchema = conformance.validator('components/schemas/Order');
  t.ok(messages.length >= 1);
  for (const m of messages) {
    t.equal(m.event, 'order');
    t.ok(orderSchema(m.data.order), JSON.stringify(orderSchema.errors));
  }
  t.equal(messages.at(-1)!.data.order.state, 'completed', 'the stream ends at the terminal state');

  const rentals = (await hub.api('GET', '/api/me/rentals', undefined, token)).body;
  const rentalId = rentals[0].id as string;
  const quote = await hub.api(
    'GET',
    `/api/rentals/${rentalId}/extension-quote?days=1`,
    undefined,
    token,
  );
  t.equal(quote.status, 200);
  const ext = await hub.api(
    'POST',
    `/api/rentals/${rentalId}/extend`,
    { days: 1, quotedAmountMinor: quote.body.quote.amountMinor },
    token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(ext.status, 200);
  t.equal(
    (await hub.api('GET', `/api/orders/${orderId}`, undefined, token)).body.order.rentalId,
    rentalId,
  );
  t.equal((await hub.api('GET', '/api/me/orders', undefined, token)).body.length, 1);

  // Return at the kiosk: the receipt is the rental with its charges.
  await k1.sendEvent('DiskReturned', {
    slot: cmd.payload.slot as number,
    diskId: cmd.payload.diskId as string,
    identityValid: true,
    writeProtected: false,
  });
  const receipt = (await hub.api('GET', '/api/me/rentals', undefined, token)).body[0];
  t.equal(receipt.state, 'returned');
  t.same(
    receipt.charges.map((c: { kind: string }) => c.kind),
    ['rental', 'extension'],
  );
  const reserved = await hub.api('POST', '/api/reservations', { ...body, days: 1 }, token, {
    'idempotency-key': randomUUID(),
  });
  t.equal(reserved.status, 201, JSON.stringify(reserved.body));
  const rid = reserved.body.reservation.id as string;
  t.equal((await hub.api('GET', `/api/reservations/${rid}`, undefined, token)).status, 200);
  const cancelled = await hub.api('POST', `/api/reservations/${rid}/cancel`, {}, token);
  t.equal(cancelled.body.reservation.state, 'cancelled');
  const pickup = await hub.api('POST', `/api/reservations/${rid}/pickup`, {}, token);
  t.equal(pickup.body.error.code, 'RESERVATION_NOT_READY');
  t.equal((await hub.api('GET', '/api/me/reservations', undefined, token)).body.length, 1);

  t.equal((await hub.api('POST', '/api/auth/logout', undefined, token)).status, 204);
});

t.test('bad requests answer VALIDATION in the documented shape', async (t) => {
  const hub = await startRentalHub(t);
  const me = await hub.renter();
  const key = { 'idempotency-key': randomUUID() };
  const order = { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 2, card: CARD };
  const cases: [string, string, unknown, Record<string, string>][] = [
    ['POST', '/api/orders', { ...order, days: 0 }, key],
    ['POST', '/api/orders', { ...order, days: '2' }, key],
    ['POST', '/api/orders', { ...order, extra: 1 }, key],
    ['POST', '/api/orders', order, {}],
    ['GET', '/api/kiosks?near=north', undefined, {}],
    ['GET', '/api/rentals/r1/extension-quote?days=0', undefined, {}],
    ['POST', '/api/me/deposit', { amountMinor: 5, card: { paymentMethod: 'pm card!' } }, {}],
  ];
  for (const [method, url, body, headers] of cases) {
    // hub.api() validates the answer against the operation's documented 400.
    const r = await hub.api(method, url, body, me.token, headers);
    t.equal(r.status, 400, `${method} ${url}`);
    t.equal(r.body.error.code, 'VALIDATION');
    t.type(r.body.error.message, 'string');
    t.same(Object.keys(r.body), ['error'], 'nothing but the error');
  }
});
