import { Buffer, isUtf8 } from 'node:buffer';
import { type Direction, isAction, isActionOf } from './actions.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_FRAME_BYTES, MAX_MESSAGE_ID_LENGTH } from './constants.js';
import { type ErrorCode, type FrameError, isErrorCode } from './errors.js';
import type { Frame, ParseResult } from './frames.js';
import { findForbiddenKey, isJsonObject, jsonDepthExceeds } from './json-guard.js';
import { validateRequest } from './validation.js';

/** What a WebSocket library may hand over: text, bytes, or a fragmented message. */
export type FrameInput = string | Uint8Array | ArrayBuffer | readonly Uint8Array[];

export interface ParseFrameOptions {
  /** Largest accepted frame in UTF-8 bytes (default 256 KiB). */
  maxBytes?: number;
  /** Deepest accepted array/object nesting, the frame array included (default 32). */
  maxDepth?: number;
  /**
   * The direction this receiver accepts CALLs for. When given, a CALL whose action travels the
   * other way is refused with NotImplemented. A known action's payload is always validated.
   */
  direction?: Direction;
}

const MAX_ACTION_LENGTH = 64;
/** `[<type>, "<id>"` at the start of a frame that is not parsed whole (no escapes in the id). */
const ID_PREFIX = /^\s*\[\s*(\d+)\s*,\s*"([^"\\]*)"/;
/** How much of an unparsed frame is searched for its type and id. */
const SNIFF_CHARS = 4096;

interface Known {
  messageId?: string;
  messageType?: number;
  action?: string;
}

function failure(code: ErrorCode, message: string, known: Known = {}): ParseResult {
  const error: FrameError = { code, message };
  if (known.messageId !== undefined) error.messageId = known.messageId;
  if (known.messageType !== undefined) error.messageType = known.messageType;
  if (known.action !== undefined) error.action = known.action;
  return { ok: false, error };
}

/** Reads the message type and id from the start of a frame that will not be parsed whole. */
function sniffPrefix(head: string): Known {
  const m = ID_PREFIX.exec(head.slice(0, SNIFF_CHARS));
  if (m === null) return {};
  return { messageType: Number(m[1]), messageId: m[2] };
}

/**
 * A frame too big, too deep or not JSON: FormatViolation if its id can be read, else
 * RpcFrameworkError.
 */
function refuseUnparsed(head: string, what: string): ParseResult {
  const known = sniffPrefix(head);
  if (known.messageId === undefined) return failure('RpcFrameworkError', what);
  return failure('FormatViolation', what, known);
}

function toBytes(input: Uint8Array | ArrayBuffer | readonly Uint8Array[]): Buffer {
  if (input instanceof ArrayBuffer) return Buffer.from(input);
  if (Array.isArray(input)) return Buffer.concat(input as Uint8Array[]);
  const u8 = input as Uint8Array;
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

function isValidId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_MESSAGE_ID_LENGTH;
}

/**
 * An id that can be read (any JSON string, even empty or too long) is kept, so that a refused
 * CALL is answered with the id exactly as its sender wrote it and the sender can match it.
 */
function isReadableId(id: unknown): id is string {
  return typeof id === 'string';
}

/** Decodes input to text within the size limit, or refuses it. */
function decode(input: FrameInput, maxBytes: number): string | ParseResult {
  const tooBig = (n: number, head: string) =>
    refuseUnparsed(
      head,
      `frame of ${n} bytes is over the ${maxBytes}-byte limit; send smaller messages`,
    );
  if (typeof input === 'string') {
    if (input.length > maxBytes) return tooBig(input.length, input.slice(0, SNIFF_CHARS));
    if (input.length * 3 > maxBytes) {
      const n = Buffer.byteLength(input, 'utf8');
      if (n > maxBytes) return tooBig(n, input.slice(0, SNIFF_CHARS));
    }
    return input;
  }
  const isBytes =
    input instanceof Uint8Array || input instanceof ArrayBuffer || Array.isArray(input);
  if (!isBytes) return failure('RpcFrameworkError', 'frame is neither text nor bytes');
  const bytes = toBytes(input);
  if (bytes.length > maxBytes) {
    return tooBig(bytes.length, bytes.subarray(0, SNIFF_CHARS).toString('utf8'));
  }
  if (!isUtf8(bytes)) {
    return failure('RpcFrameworkError', 'frame is not valid UTF-8; send JSON text');
  }
  return bytes.toString('utf8');
}

/**
 * Parses and validates one OCPP-J frame. Never throws: every failure comes back as
 * `{ ok: false, error }` with the OCPP-J code to answer and, when readable, the message id.
 */
export function parseFrame(input: FrameInput, opts: ParseFrameOptions = {}): ParseResult {
  try {
    return parseUnsafe(input, opts);
  } catch {
    // Defensive: nothing above should throw, but a receiver must never crash on input.
    return failure('RpcFrameworkError', 'frame could not be parsed');
  }
}

function parseUnsafe(input: FrameInput, opts: ParseFrameOptions): ParseResult {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const decoded = decode(input, maxBytes);
  if (typeof decoded !== 'string') return decoded;
  const text = decoded;

  if (text.trim() === '') return failure('RpcFrameworkError', 'frame is empty');
  if (jsonDepthExceeds(text, maxDepth)) {
    return refuseUnparsed(text, `frame nests deeper than ${maxDepth} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuseUnparsed(text, 'frame is not valid JSON');
  }
  if (!Array.isArray(value)) {
    return failure('RpcFrameworkError', 'frame is not a JSON array [type, id, ...]');
  }
  const [type, id] = value as unknown[];
  const known: Known = {};
  if (isReadableId(id)) known.messageId = id;
  if (typeof type !== 'number' || !Number.isInteger(type)) {
    return failure('RpcFrameworkError', 'frame does not start with an integer message type', known);
  }
  known.messageType = type;
  if (type !== 2 && type !== 3 && type !== 4) {
    return failure('MessageTypeNotSupported', `message type ${type} is not 2, 3 or 4`, known);
  }
  if (!isValidId(id)) {
    const got = typeof id === 'string' ? `${id.length} chars` : 'not a string';
    return failure(
      'RpcFrameworkError',
      `message id must be a string of 1..${MAX_MESSAGE_ID_LENGTH} chars (got ${got}); send a UUID`,
      known,
    );
  }
  const forbidden = findForbiddenKey(value, text);
  if (forbidden !== undefined) {
    return failure('FormatViolation', `frame contains the forbidden key "${forbidden}"`, known);
  }
  switch (type) {
    case 2:
      return parseCall(value, id, known, opts.direction);
    case 3:
      return parseCallResult(value, id, known);
    case 4:
      return parseCallError(value, id, known);
  }
}

function parseCall(value: unknown[], id: string, known: Known, direction?: Direction): ParseResult {
  if (value.length !== 4) {
    return failure('RpcFrameworkError', `CALL has ${value.length} elements, expected 4`, known);
  }
  const action = value[2];
  if (typeof action !== 'string' || action.length === 0 || action.length > MAX_ACTION_LENGTH) {
    return failure('RpcFrameworkError', 'CALL action must be a non-empty string', known);
  }
  known.action = action;
  const payload = value[3];
  if (!isJsonObject(payload)) {
    return failure('FormatViolation', `${action} payload must be a JSON object`, known);
  }
  const accepted = direction === undefined ? isAction(action) : isActionOf(action, direction);
  if (!accepted || !isAction(action)) {
    return failure(
      'NotImplemented',
      `action ${JSON.stringify(action)} is not implemented here`,
      known,
    );
  }
  const result = validateRequest(action, payload);
  if (!result.ok) return failure(result.code, result.message, known);
  const frame: Frame = { type: 2, id, action, payload };
  return { ok: true, frame };
}

function parseCallResult(value: unknown[], id: string, known: Known): ParseResult {
  if (value.length !== 3) {
    return failure(
      'RpcFrameworkError',
      `CALLRESULT has ${value.length} elements, expected 3`,
      known,
    );
  }
  const payload = value[2];
  if (!isJsonObject(payload)) {
    return failure('FormatViolation', 'CALLRESULT payload must be a JSON object', known);
  }
  return { ok: true, frame: { type: 3, id, payload } };
}

function parseCallError(value: unknown[], id: string, known: Known): ParseResult {
  if (value.length !== 5) {
    return failure(
      'RpcFrameworkError',
      `CALLERROR has ${value.length} elements, expected 5`,
      known,
    );
  }
  const [, , code, description, details] = value;
  if (typeof code !== 'string' || typeof description !== 'string') {
    return failure('FormatViolation', 'CALLERROR code and description must be strings', known);
  }
  if (!isJsonObject(details)) {
    return failure('FormatViolation', 'CALLERROR details must be a JSON object', known);
  }
  // An unknown code from a newer peer is kept as GenericError rather than refused.
  const errorCode: ErrorCode = isErrorCode(code) ? code : 'GenericError';
  return { ok: true, frame: { type: 4, id, code: errorCode, description, details } };
}
