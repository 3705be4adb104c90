// Response serializers compiled on first use (cloud-lite/http/lazy-serializers.ts): the same
// output as fastify's (fields the schema does not name left out), compiled only when a
// response is first serialised, once.
import Fastify from 'fastify';
import t from 'tap';
import { lazySerializers } from '../../../cloud-lite/http/lazy-serializers.js';

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
