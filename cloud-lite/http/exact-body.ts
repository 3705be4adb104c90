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
 */
export function exactBodyValidators() {
  const pool = AjvCompiler();
  return (external: External, opts?: Options) => {
    const base = (opts ?? {}) as Options & { customOptions?: Record<string, unknown> };
    const exact = pool(external, {
      ...base,
      customOptions: { ...base.customOptions, coerceTypes: false },
    } as Options) as unknown as FastifySchemaCompiler<unknown>;
    const loose = pool(external, base) as unknown as FastifySchemaCompiler<unknown>;
    return (route: RouteSchema) => (route.httpPart === 'body' ? exact : loose)(route);
  };
}
