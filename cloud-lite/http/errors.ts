import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';

/** The one error body shape: `{ error: { code, message } }`. Never a stack trace. */
export function errorBody(
  code: string,
  message: string,
): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Installs the error and not-found handlers that map every failure to `errorBody`. */
export function installErrorHandlers(
  app: FastifyInstance,
  logger: Logger,
  onError: () => void,
): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof HubError) {
      if (err.status >= 500) logger.error({ err, url: req.url }, 'request failed');
      return reply.status(err.status).send(errorBody(err.code, err.message));
    }
    if (err.validation) {
      return reply
        .status(400)
        .send(
          errorBody(
            'EVALIDATION',
            `invalid request: ${err.validationContext ?? ''} ${err.message}`.trim(),
          ),
        );
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply
          .status(413)
          .send(errorBody('EBODYTOOLARGE', 'request body too large; send less'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.status(415).send(errorBody('EMEDIATYPE', 'send the body as application/json'));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.status(400).send(errorBody('EBADJSON', 'the request body is not valid JSON'));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      if (err instanceof SyntaxError) {
        return reply.status(400).send(errorBody('EBADJSON', 'the request body is not valid JSON'));
      }
      return reply
        .status(err.statusCode)
        .send(errorBody('EBADREQUEST', 'the request is malformed'));
    }
    onError();
    logger.error({ err, url: req.url }, 'request failed');
    return reply
      .status(500)
      .send(errorBody('EINTERNAL', 'internal error; the hub log has the details'));
  });
  app.setNotFoundHandler((req, reply) => {
    reply
      .status(404)
      .send(errorBody('ENOTFOUND', `no route ${req.method} ${req.url.split('?')[0]}`));
  });
}

/**
 * Fastify's `frameworkErrors`: failures its router meets before any route or error handler
 * runs (a path parameter over `maxParamLength`, a URL that does not decode), in the same
 * error body as every other answer instead of fastify's own.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply) {
  switch (err.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return reply
        .status(414)
        .send(errorBody('EURITOOLONG', 'a part of the URL is too long (at most 100 characters)'));
    case 'FST_ERR_BAD_URL':
      return reply
        .status(400)
        .send(errorBody('EBADURL', 'the URL is malformed (bad percent-encoding)'));
    default:
      return reply
        .status(500)
        .send(errorBody('EINTERNAL', 'internal error; the hub log has the details'));
  }
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'EREQUESTTIMEOUT', 'the request took too long to arrive'],
  HPE_HEADER_OVERFLOW: [431, 'EHEADERSTOOLARGE', 'the request headers are too large'],
};

/**
 * Fastify's `clientErrorHandler`: a request node's HTTP parser refused (headers too large,
 * malformed HTTP, a timeout) gets the API's error body on the raw socket, then the socket closes.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
    400,
    'EBADREQUEST',
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
