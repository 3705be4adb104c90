import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { type Action, hubToKioskActions, isAction, kioskToHubActions } from './actions.js';
import type { ErrorCode } from './errors.js';
import { type EventType, eventDataSchemas } from './schemas/events.js';
import { EventEnvelope } from './schemas/kiosk-to-hub.js';

export type ValidationResult =
  | { ok: true }
  | { ok: false; code: ErrorCode; message: string; path: string };

const OK: ValidationResult = Object.freeze({ ok: true });

/**
 * Compiled checkers for every schema, built once per process on first use of this module (the
 * compiled code holds no mutable state, so sharing it is safe).
 */
const requestChecks = new Map<string, TypeCheck<TSchema>>();
const responseChecks = new Map<string, TypeCheck<TSchema>>();
for (const registry of [kioskToHubActions, hubToKioskActions]) {
  for (const [action, { request, response }] of Object.entries(registry)) {
    if (action !== 'Event') requestChecks.set(action, TypeCompiler.Compile(request));
    responseChecks.set(action, TypeCompiler.Compile(response));
  }
}
const envelopeCheck = TypeCompiler.Compile(EventEnvelope);
const eventDataChecks = new Map<string, TypeCheck<TSchema>>(
  Object.entries(eventDataSchemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]),
);

const TYPE_ERRORS = new Set<ValueErrorType>([
  ValueErrorType.Array,
  ValueErrorType.Boolean,
  ValueErrorType.Integer,
  ValueErrorType.Null,
  ValueErrorType.Number,
  ValueErrorType.Object,
  ValueErrorType.String,
  ValueErrorType.Tuple,
  ValueErrorType.Undefined,
]);

function literalTypeMatches(schema: TSchema, value: unknown): boolean {
  const variants: TSchema[] = Array.isArray(schema.anyOf) ? schema.anyOf : [schema];
  return variants.some((v) => v.const !== undefined && typeof v.const === typeof value);
}

function describe(error: ValueError): string {
  const variants: TSchema[] | undefined = error.schema.anyOf;
  if (error.type === ValueErrorType.Union && variants?.every((v) => v.const !== undefined)) {
    return `expected one of ${variants.map((v) => JSON.stringify(v.const)).join(', ')}`;
  }
  return error.message;
}

/** Maps a TypeBox validation error to the OCPP-J error code that describes it. */
export function errorCodeFor(error: ValueError, rootPath = ''): ErrorCode {
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'ProtocolError';
    case ValueErrorType.ObjectAdditionalProperties:
      return 'FormatViolation';
    case ValueErrorType.Object:
      // The payload itself not being an object is a shape error; a nested field is a type error.
      return error.path === rootPath ? 'FormatViolation' : 'TypeConstraintViolation';
    case ValueErrorType.Literal:
    case ValueErrorType.Union:
      return literalTypeMatches(error.schema, error.value)
        ? 'PropertyConstraintViolation'
        : 'TypeConstraintViolation';
    default:
      return TYPE_ERRORS.has(error.type)
        ? 'TypeConstraintViolation'
        : 'PropertyConstraintViolation';
  }
}

function fail(
  what: string,
  check: TypeCheck<TSchema>,
  value: unknown,
  prefix = '',
): ValidationResult {
  const error = check.Errors(value).First();
  if (error === undefined)
    return { ok: false, code: 'FormatViolation', message: `${what}: invalid`, path: prefix };
  const path = prefix + error.path;
  return {
    ok: false,
    code: errorCodeFor(error),
    message: `${what}: ${path === '' ? 'payload' : path}: ${describe(error)}`,
    path,
  };
}

/** Validates the data of one event type. */
export function validateEventData(type: EventType, data: unknown): ValidationResult {
  const check = eventDataChecks.get(type);
  if (check === undefined) {
    return {
      ok: false,
      code: 'PropertyConstraintViolation',
      message: `unknown event type`,
      path: '/type',
    };
  }
  if (check.Check(data)) return OK;
  return fail(`${type} event data`, check, data, '/data');
}

function validateEventRequest(payload: unknown): ValidationResult {
  if (!envelopeCheck.Check(payload)) return fail('Event request', envelopeCheck, payload);
  const { type, data } = payload as { type: EventType; data: unknown };
  return validateEventData(type, data);
}

/** Validates a CALL payload against its action's request schema. Never throws. */
export function validateRequest(action: Action, payload: unknown): ValidationResult {
  if (action === 'Event') return validateEventRequest(payload);
  const check = isAction(action) ? requestChecks.get(action) : undefined;
  if (check === undefined) {
    return { ok: false, code: 'NotImplemented', message: `unknown action`, path: '' };
  }
  return check.Check(payload) ? OK : fail(`${action} request`, check, payload);
}

/** Validates a CALLRESULT payload against its action's response schema. Never throws. */
export function validateResponse(action: Action, payload: unknown): ValidationResult {
  const check = isAction(action) ? responseChecks.get(action) : undefined;
  if (check === undefined) {
    return { ok: false, code: 'NotImplemented', message: `unknown action`, path: '' };
  }
  return check.Check(payload) ? OK : fail(`${action} response`, check, payload);
}
