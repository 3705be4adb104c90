/** OCPP-J CALLERROR codes. */
import { CodedError } from '../common/coded-error.js';

export type ErrorCode =
  | 'FormatViolation'
  | 'ProtocolError'
  | 'NotImplemented'
  | 'NotSupported'
  | 'SecurityError'
  | 'PropertyConstraintViolation'
  | 'TypeConstraintViolation'
  | 'GenericError'
  | 'InternalError'
  | 'MessageTypeNotSupported'
  | 'RpcFrameworkError';

export const ERROR_CODES: readonly ErrorCode[] = Object.freeze([
  'FormatViolation',
  'ProtocolError',
  'NotImplemented',
  'NotSupported',
  'SecurityError',
  'PropertyConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
  'InternalError',
  'MessageTypeNotSupported',
  'RpcFrameworkError',
]);

const errorCodeSet: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && errorCodeSet.has(value);
}

/**
 * Why a received frame was refused. `messageId` is set whenever it could be read (any JSON
 * string, even empty or longer than MAX_MESSAGE_ID_LENGTH, exactly as sent), so the receiver can
 * answer a CALL with a CALLERROR echoing it; `messageType` (2, 3 or 4) when the type could be read
 * (a receiver must not answer a CALLRESULT or CALLERROR with a CALLERROR).
 */
export interface FrameError {
  code: ErrorCode;
  message: string;
  messageId?: string;
  messageType?: number;
  action?: string;
}

/**
 * Thrown by an RpcPeer handler to answer a CALLERROR with this code, description and details.
 */
export class CallError extends CodedError<ErrorCode> {
  constructor(
    code: ErrorCode,
    description: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(code, description);
  }
}

/**
 * Why RpcPeer.call failed:
 * - ETIMEOUT: no answer within the timeout (the message names the action and message id);
 * - ECLOSED: the peer was closed before (or while) the call was pending;
 * - ECALLERROR: the remote answered a CALLERROR (see `errorCode`, `details`);
 * - EINVALID: the remote's result (or our own outgoing payload) failed schema validation;
 * - ESEND: the transport's send function threw.
 */
export type RpcErrorCode = 'ETIMEOUT' | 'ECLOSED' | 'ECALLERROR' | 'EINVALID' | 'ESEND';

export class RpcError extends CodedError<RpcErrorCode> {
  readonly action: string;
  readonly messageId: string | undefined;
  /** The remote's OCPP-J code, for ECALLERROR (and the validation code for EINVALID). */
  readonly errorCode: ErrorCode | undefined;
  readonly details: Record<string, unknown>;

  constructor(
    code: RpcErrorCode,
    message: string,
    opts: {
      action: string;
      messageId?: string;
      errorCode?: ErrorCode;
      details?: Record<string, unknown>;
      cause?: unknown;
    },
  ) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.action = opts.action;
    this.messageId = opts.messageId;
    this.errorCode = opts.errorCode;
    this.details = opts.details ?? {};
  }
}
