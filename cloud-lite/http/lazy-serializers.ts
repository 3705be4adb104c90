import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type Factory = ReturnType<typeof SerializerSelector>;

/**
 * Fastify's response serializer factory (fast-json-stringify, the same schemas and options)
 * with one change: a route's serializer for a status is compiled when that response is first
 * sent, not when the server starts. Compiling every route's response schemas at start was
 * most of the hub's start-up CPU (about 60 % of it) and a third of an idle hub's memory, for
 * responses most processes never send (bench:hub, docs/postgres.md). Responses are the same:
 * the fields a schema does not name are still left out.
 *
 * `eager`: every serializer compiled when its route is set up, as fastify does by default (a
 * test compiles every route's at once, so a broken response schema fails CI, not the first
 * answer in production: test/cloud-lite/http/lazy-serializers.test.ts).
 */
export function lazySerializers(o: { eager?: boolean } = {}): Factory {
  const factory = SerializerSelector();
  if (o.eager) return factory;
  return (external, opts) => {
    const compile = factory(external, opts);
    return (route) => {
      let serialize: ((doc: unknown) => string) | undefined;
      return (doc) => {
        serialize ??= compile(route);
        return serialize(doc);
      };
    };
  };
}
