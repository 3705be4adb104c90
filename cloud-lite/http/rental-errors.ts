import type { FastifyError, FastifyInstance } from 'fastify';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import { RentalError } from '../rental/errors.js';

const body = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  error: { code, message, ...extra },
});

/** Error bodies of the rental API: `{ error: { code, message, ...details } }`; never a stack trace. */
export function installRentalErrors(scope: FastifyInstance, logger: Logger): void {
  scope.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof RentalError) {
      if (typeof err.details.retryAfterSeconds === 'number')
        reply.header('retry-after', String(err.details.retryAfterSeconds));
      return reply.status(err.status).send(body(err.code, err.message, err.details));
    }
    if (err instanceof HubError) {
      if (err.status >= 500) logger.error({ err, url: req.url }, 'request failed');
      return reply.status(err.status).send(body(err.code, err.message));
    }
    if (err.validation) {
      return reply
        .status(400)
        .send(
          body(
            'VALIDATION',
            `invalid request: ${err.validationContext ?? ''} ${err.message}`.trim(),
          ),
        );
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.status(413).send(body('BODY_TOO_LARGE', 'request body too large; send less'));
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply
          .status(415)
          .send(body('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'));
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return reply.status(400).send(body('BAD_JSON', 'the request body is not valid JSON'));
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      if (err instanceof SyntaxError)
        return reply.status(400).send(body('BAD_JSON', 'the request body is not valid JSON'));
      return reply.status(err.statusCode).send(body('BAD_REQUEST', 'the request is malformed'));
    }
    logger.error({ err, url: req.url }, 'request failed');
    return reply.status(500).send(body('INTERNAL', 'internal error; the hub log has the details'));
  });
}
