// Response serializers compiled on first use (cloud-lite/http/lazy-serializers.ts): the same
// output as fastify's (fields the schema does not name left out), compiled only when a
// response is first serialised, once. And every route's of the hub compiled at once here, so a
// broken response schema fails CI rather than the first such answer in production.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import t from 'tap';
import { validateConfig } from '../../../cloud-lite/config.js';
import { exactBodyValidators } from '../../../cloud-lite/http/exact-body.js';
import { lazySerializers } from '../../../cloud-lite/http/lazy-serializers.js';
import { HubServer } from '../../../cloud-lite/server.js';

const route = (schema: unknown) => ({ method: 'GET', url: '/x', httpStatus: '200', schema });

t.test('serialises as the schema says, leaving unnamed fields out', async (t) => {
  const compile = lazySerializers()({}, {});
  const serialize = compile(
    route({ type: 'object', properties: { a: { type: 'string' }, n: { type: 'integer' } } }),
  );
  t.equal(serialize({ a: 'x', n: 2, secretHash: 'leak' }), '{"a":"x","n":2}');
});

t.test('compiles when first used, not when the route is set up', async (t) => {
  const compile = lazySerializers()({}, {});
  // A schema fast-json-stringify cannot compile: setting the route up does not throw...
  const serialize = compile(route({ $ref: 'missing#/nowhere' }));
  // ...the first response does.
  t.throws(() => serialize({}));
});

t.test('in a fastify app: a route answers through it, extra fields dropped', async (t) => {
  const app = Fastify({
    schemaController: { compilersFactory: { buildSerializer: lazySerializers() as never } },
  });
  t.teardown(() => app.close());
  app.get(
    '/k',
    { schema: { response: { 200: { type: 'object', properties: { id: { type: 'string' } } } } } },
    async () => ({ id: 'k1', secretHash: 'leak' }),
  );
  const res = await app.inject({ method: 'GET', url: '/k' });
  t.equal(res.statusCode, 200);
  t.same(res.json(), { id: 'k1' });
});

t.test('eager: a broken response schema fails when the app is made ready', async (t) => {
  const app = Fastify({
    schemaController: {
      compilersFactory: { buildSerializer: lazySerializers({ eager: true }) as never },
    },
  });
  t.teardown(() => app.close());
  app.get('/k', { schema: { response: { 200: { $ref: 'missing#/nowhere' } } } }, async () => ({}));
  await t.rejects(async () => {
    await app.ready();
  }, 'compiled at once, and refused');
});

t.test('validators: compiled at the first request, a failed check names the field', async (t) => {
  const app = Fastify({
    schemaController: { compilersFactory: { buildValidator: exactBodyValidators() as never } },
  });
  t.teardown(() => app.close());
  const body = {
    type: 'object',
    required: ['days'],
    properties: { days: { type: 'integer' } },
  } as const;
  app.post('/k', { schema: { body } }, async (req) => req.body);
  // A schema ajv cannot compile: setting the route up does not throw, its first request does.
  app.post('/broken', { schema: { body: { $ref: 'missing#/nowhere' } } }, async () => ({}));
  await app.ready();
  const bad = await app.inject({ method: 'POST', url: '/k', payload: { days: '3' } });
  t.equal(bad.statusCode, 400, 'a string for an integer: refused, not coerced');
  t.match(bad.json().message, /days.*must be integer/);
  const good = await app.inject({ method: 'POST', url: '/k', payload: { days: 3 } });
  t.same(good.json(), { days: 3 });
  t.equal((await app.inject({ method: 'POST', url: '/broken', payload: {} })).statusCode, 500);
});

t.test('every request validator and response serializer of the hub compiles', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'serializers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let responses = 0;
  const server = new HubServer({
    config: validateConfig({
      host: '127.0.0.1',
      port: 0,
      databasePath: path.join(dir, 'hub.db'),
      signingKeyPath: path.join(dir, 'hub-key.pem'),
      logLevel: 'silent',
      adminToken: 'serializer-test-admin-token-0123456789',
    }),
    logger: pino({ level: 'silent' }),
    eagerSchemas: true,
    onRoute: (r) => {
      responses += Object.keys((r.schema?.response as object | undefined) ?? {}).length;
    },
  });
  t.teardown(() => server.stop());
  const app = await server.build();
  await app.ready(); // compiles every route's validators and serializers: throws on a broken one
  t.ok(responses > 100, `${responses} response schemas compiled`);
});
