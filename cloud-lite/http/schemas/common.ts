import { type ObjectOptions, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { API_ERRORS, type ApiErrorCode, REFUSAL_REASONS, statusesOf } from '../../error-codes.js';
import type { Access } from '../guard.js';

/**
 * Building blocks of the route schemas. Response objects are exact (`additionalProperties:
 * false`): fastify serialises with them, so a field the schema does not name would be dropped;
 * test/cloud-lite/http/openapi-responses.test.ts checks that real answers carry no such field.
 */
export const Exact = <T extends TProperties>(props: T, opts: ObjectOptions = {}) =>
  Type.Object(props, { additionalProperties: false, ...opts });

export const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);

export const IsoTime = Type.String({ description: 'ISO 8601 UTC time' });

/** A Server-Sent Events stream whose messages `event: <name>` carry `data: {"<name>": <component>}`. */
export const EventStream = (name: string, component: string) =>
  Media<void>(
    'text/event-stream',
    `Server-Sent Events: \`event: ${name}\` messages, \`data: {"${name}": <${component}>}\` (components.schemas.${component}), and \`: keep-alive\` comments`,
    Type.String({ 'x-sse-data': { $ref: `#/components/schemas/${component}` } }),
  );

/** A response that is not JSON: its media type and what it holds. */
export const Media = <T = string>(
  type: string,
  description: string,
  schema: TSchema = Type.String(),
) => Type.Unsafe<T>({ description, content: { [type]: { schema } } });

export const literals = <T extends string>(values: readonly T[], description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  );

export const Reason = literals(
  Object.keys(REFUSAL_REASONS) as (keyof typeof REFUSAL_REASONS)[],
  'why the renter may not rent or reserve now',
);

const ERROR_CODES = Object.keys(API_ERRORS) as ApiErrorCode[];

/** `{ error: { code, message, ...details } }`: every answer that is not a success. */
export const ErrorBody = Exact(
  {
    error: Exact({
      code: literals(ERROR_CODES),
      message: Type.String({ description: 'what failed and what to do, in English' }),
      retryAfterSeconds: Type.Optional(
        Type.Integer({
          description: 'TOO_MANY_ATTEMPTS, BUSY: when to try again (also Retry-After)',
        }),
      ),
      reason: Type.Optional(
        Type.String({
          description:
            'WEAK_PASSWORD: too_short, too_long, common, repetitive, sequential or login',
        }),
      ),
      reasons: Type.Optional(Type.Array(Reason, { description: 'NOT_ALLOWED: why' })),
      maxOpenRentals: Type.Optional(Type.Integer({ description: 'NOT_ALLOWED: the limit' })),
      maxActiveReservations: Type.Optional(Type.Integer({ description: 'NOT_ALLOWED: the limit' })),
      maxDays: Type.Optional(Type.Integer({ description: "RENTAL_TOO_LONG: the type's maxDays" })),
      daysSoFar: Type.Optional(
        Type.Integer({ description: 'RENTAL_TOO_LONG: days booked so far' }),
      ),
      maxExtraDays: Type.Optional(
        Type.Integer({ description: 'RENTAL_TOO_LONG: days that may still be added' }),
      ),
      amountMinor: Type.Optional(Type.Integer({ description: 'QUOTE_CHANGED: the price now' })),
      currency: Type.Optional(Type.String({ description: 'QUOTE_CHANGED: its currency' })),
      features: Type.Optional(
        Type.Array(Type.String(), {
          description:
            'KIOSK_LACKS_FEATURE: the protocol features the command needs that the kiosk did not list',
        }),
      ),
    }),
  },
  {
    $id: 'ErrorBody',
    examples: [
      { error: { code: 'VALIDATION', message: 'invalid request: body/days must be >= 1' } },
      {
        error: {
          code: 'NOT_ALLOWED',
          message: 'renting is not allowed now: NO_DEPOSIT',
          reasons: ['NO_DEPOSIT'],
          maxOpenRentals: 1,
          maxActiveReservations: 1,
        },
      },
    ],
  },
);

/** The codes any route may answer from the HTTP edge, besides its own. */
export const EDGE_ERRORS: readonly ApiErrorCode[] = [
  'VALIDATION',
  'BAD_JSON',
  'BAD_REQUEST',
  'BAD_URL',
  'URI_TOO_LONG',
  'HEADERS_TOO_LARGE',
  'REQUEST_TIMEOUT',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INTERNAL',
  'UNAVAILABLE',
];

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No content',
  206: 'Partial content',
  304: 'Not modified',
};

/** Success responses with a description (the document's response text): their own, or the status's. */
function described(r: Record<number, TSchema>): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const [s, schema] of Object.entries(r))
    out[Number(s)] =
      schema.description === undefined
        ? { ...schema, description: STATUS_TEXT[Number(s)] ?? 'Success' }
        : schema;
  return out;
}

/** The codes the guard answers for an access level. */
function guardErrors(access: Access): ApiErrorCode[] {
  if (access === 'public') return [];
  if (access === 'metrics') return ['UNAUTHENTICATED'];
  return ['UNAUTHENTICATED', 'FORBIDDEN'];
}

const SECURITY: Record<Access, Record<string, string[]>[]> = {
  public: [],
  account: [{ session: [] }, { bearer: [] }],
  staff: [{ session: [] }, { bearer: [] }],
  operator: [{ session: [] }, { bearer: [] }],
  admin: [{ session: [] }, { bearer: [] }],
  metrics: [{ bearer: [] }],
  'kiosk-or-operator': [{ kiosk: [] }, { bearer: [] }, { session: [] }],
};

const STATEFUL = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

type Part = TSchema | undefined;

export interface RouteDoc<
  R extends Record<number, TSchema>,
  P extends Part,
  Q extends Part,
  H extends Part,
  B extends Part,
> {
  method: 'GET' | 'HEAD' | 'POST';
  summary: string;
  description?: string;
  tags: string[];
  access: Access;
  params?: P;
  querystring?: Q;
  headers?: H;
  body?: B;
  /** Success responses by status. */
  response: R;
  /** The route's own refusal codes (the guard's, same-origin and the edge's are added). */
  errors?: readonly ApiErrorCode[];
}

/**
 * A route's fastify options: its access rule, and its schema with the OpenAPI extras: summary,
 * tags, security, `x-access`, `x-error-codes` (every code it may answer), and one error
 * response per status (ErrorBody, its codes named in the description).
 */
export function route<
  R extends Record<number, TSchema>,
  P extends Part = undefined,
  Q extends Part = undefined,
  H extends Part = undefined,
  B extends Part = undefined,
>(doc: RouteDoc<R, P, Q, H, B>) {
  const codes = new Set<ApiErrorCode>(doc.errors ?? []);
  for (const c of guardErrors(doc.access)) codes.add(c);
  if (STATEFUL.has(doc.method)) codes.add('CROSS_ORIGIN');
  const own = [...codes];
  for (const c of EDGE_ERRORS) codes.add(c);
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const c of codes)
    for (const s of statusesOf(c)) byStatus.set(s, [...(byStatus.get(s) ?? []), c]);
  const errorResponses: Record<number, TSchema> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0]))
    errorResponses[status] = Type.Ref(ErrorBody, {
      description: list.map((c) => `${c}: ${API_ERRORS[c].description}`).join('; '),
    });
  const description = [
    doc.description,
    `Access: ${doc.access}.`,
    own.length > 0 ? `Error codes: ${own.join(', ')} (and the edge's).` : undefined,
  ]
    .filter(Boolean)
    .join('\n\n');
  return {
    config: { access: doc.access },
    schema: {
      summary: doc.summary,
      description,
      tags: doc.tags,
      security: SECURITY[doc.access],
      'x-access': doc.access,
      'x-error-codes': [...codes],
      ...((doc.params ? { params: doc.params } : {}) as { params: P }),
      ...((doc.querystring ? { querystring: doc.querystring } : {}) as { querystring: Q }),
      ...((doc.headers ? { headers: doc.headers } : {}) as { headers: H }),
      ...((doc.body ? { body: doc.body } : {}) as { body: B }),
      response: { ...errorResponses, ...described(doc.response) } as R,
    },
  };
}
