import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ApiErrorCode, isApiErrorCode } from '../error-codes.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { RentalError } from '../rental/errors.js';

/** The one error body: `{ error: { code, message, ...details } }`. Never a stack trace. */
export interface ErrorBody {
  error: { code: ApiErrorCode; message: string } & Record<string, unknown>;
}

export function errorBody(
  code: ApiErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): ErrorBody {
  return { error: { ...details, code, message } };
}

/** Sends `errorBody` with `status` (and Retry-After when the details carry retryAfterSeconds). */
export function sendError(
  reply: FastifyReply,
  status: number,
  code: ApiErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): FastifyReply {
  if (typeof details.retryAfterSeconds === 'number')
    reply.header('retry-after', String(details.retryAfterSeconds));
  // Sent as text: the route's response schema never trims an error's details.
  return reply
    .status(status)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(errorBody(code, message, details)));
}

/**
 * The API code of a hub error: its own when it is one of the vocabulary; else (a process-level
 * error such as ESTOPPED that reached a route) one by its status, so internal codes never leak.
 */
function apiCodeOf(err: HubError): ApiErrorCode {
  if (isApiErrorCode(err.code)) return err.code;
  if (err.status === 503) return 'UNAVAILABLE';
  if (err.status === 504) return 'TIMEOUT';
  if (err.status === 404) return 'NOT_FOUND';
  return 'INTERNAL';
}

/**
 * A request's URL as the hub logs it: the path and the names of the query parameters, never
 * their values (a value may be a secret: an old password-reset link's token, a signature).
 */
export function urlForLog(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const names = [...new URLSearchParams(url.slice(q + 1)).keys()];
  return `${url.slice(0, q)}?${names.map((n) => `${n}=…`).join('&')}`;
}

/** Installs the one error handler and the not-found handler: every failure becomes `errorBody`. */
export function installErrorHandlers(
  app: FastifyInstance,
  logger: Logger,
  onError: () => void,
  /**
   * Answers an unknown path that a browser navigates to (GET, HTML accepted, not under /api/)
   * with a page instead of JSON; returns undefined to leave it to the JSON answer.
   */
  notFoundPage?: (req: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined,
): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof HubError) {
      const code = apiCodeOf(err);
      // A refusal of the rental domain (BUSY, PAYMENT_UNAVAILABLE included) is an answer, not a fault.
      if (err instanceof RentalError)
        return sendError(reply, err.status, code, err.message, err.details);
      if (err.status >= 500) logger.error({ err, url: urlForLog(req.url) }, 'request failed');
      return sendError(reply, err.status, code, err.message, err.details);
    }
    if (err.validation) {
      return sendError(
        reply,
        400,
        'VALIDATION',
        `invalid request: ${err.validationContext ?? ''} ${err.message}`.trim(),
      );
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, 413, 'BODY_TOO_LARGE', 'request body too large; send less');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, 400, 'BAD_JSON', 'the request body is not valid JSON');
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      if (err instanceof SyntaxError)
        return sendError(reply, 400, 'BAD_JSON', 'the request body is not valid JSON');
      return sendError(reply, err.statusCode, 'BAD_REQUEST', 'the request is malformed');
    }
    onError();
    logger.error({ err, url: urlForLog(req.url) }, 'request failed');
    return sendError(reply, 500, 'INTERNAL', 'internal error; the hub log has the details');
  });
  app.setNotFoundHandler(
    (req, reply) =>
      notFoundPage?.(req, reply) ??
      sendError(reply, 404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`),
  );
}

/**
 * Fastify's `frameworkErrors`: failures its router meets before any route or error handler
 * runs (a path parameter over `maxParamLength`, a URL that does not decode), in the same
 * error body as every other answer instead of fastify's own.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply) {
  switch (err.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return sendError(
        reply,
        414,
        'URI_TOO_LONG',
        'a part of the URL is too long (at most 100 characters)',
      );
    case 'FST_ERR_BAD_URL':
      return sendError(reply, 400, 'BAD_URL', 'the URL is malformed (bad percent-encoding)');
    default:
      return sendError(reply, 500, 'INTERNAL', 'internal error; the hub log has the details');
  }
}

const CLIENT_ERRORS: Record<string, [number, ApiErrorCode, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'the request took too long to arrive'],
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'the request headers are too large'],
};

/**
 * Fastify's `clientErrorHandler`: a request node's HTTP parser refused (headers too large,
 * malformed HTTP, a timeout) gets the API's error body on the raw socket, then the socket closes.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
    400,
    'BAD_REQUEST',
    'the request is malformed',
  ];
  const body = JSON.stringify(errorBody(code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
