import AjvCompiler, { type BuildCompilerFromPool } from '@fastify/ajv-compiler';
import type { FastifySchemaCompiler } from 'fastify';

type External = Parameters<BuildCompilerFromPool>[0];
type Options = NonNullable<Parameters<BuildCompilerFromPool>[1]>;
type RouteSchema = Parameters<FastifySchemaCompiler<unknown>>[0];

/**
 * Fastify's validator factory (its own ajv compiler and options) with one change: request
 * BODIES are validated without type coercion, so JSON must carry the exact types
 * (`amountMinor: true`, `"5000"`, `[5000]`, `days: "3"`, `writeProtect: "false"` are 400
 * naming the field instead of being turned into numbers and booleans). Querystrings,
 * params and headers are text by nature and keep the configured coercion (`?limit=50`).
 *
 * `eager`: every validator compiled when its route is set up, as fastify does by default (a
 * test compiles every route's at once: test/cloud-lite/http/lazy-serializers.test.ts).
 */
export function exactBodyValidators(o: { eager?: boolean } = {}) {
  const pool = AjvCompiler();
  return (external: External, opts?: Options) => {
    const base = (opts ?? {}) as Options & { customOptions?: Record<string, unknown> };
    const exact = pool(external, {
      ...base,
      customOptions: { ...base.customOptions, coerceTypes: false },
    } as Options) as unknown as FastifySchemaCompiler<unknown>;
    const loose = pool(external, base) as unknown as FastifySchemaCompiler<unknown>;
    const compile = (route: RouteSchema) => (route.httpPart === 'body' ? exact : loose)(route);
    return o.eager ? compile : (route: RouteSchema) => lazyValidator(() => compile(route));
  };
}

type Validate = ((data: unknown) => unknown) & { errors?: unknown };

/**
 * A route's validator compiled at its first request, not when the server starts (like the
 * response serializers, lazy-serializers.ts: most routes of a process are never called, and
 * each compiled ajv function stays in memory). Fastify reads a failed check's `errors` from
 * the function it was given: copied from the compiled one after each call.
 */
function lazyValidator(compile: () => unknown): Validate {
  let validate: Validate | undefined;
  const lazy: Validate = (data) => {
    validate ??= compile() as Validate;
    const ok = validate(data);
    lazy.errors = validate.errors;
    return ok;
  };
  return lazy;
}
