import type { FastifyError, FastifyInstance } from 'fastify';
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
