import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorBody } from './errors.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const SESSION_COOKIE = /(?:^|;\s*)dk_session=/;

/** The origin the request was sent to (scheme and host as the client saw them, via trustProxy). */
function ownOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`.toLowerCase();
}

/**
 * CSRF defence for cookie sessions: a state-changing request (any method but GET, HEAD,
 * OPTIONS) is refused with 403 CROSS_ORIGIN when it carries an `Origin` other than the hub's
 * own (the request's scheme and host, or `publicUrl`'s web origin), or when it is authenticated by the
 * session cookie alone and carries no `Origin` at all (browsers send it on every such request;
 * API clients authenticate with a bearer header, which no other site can make a browser send).
 * Requests without cookie and without Origin (kiosks, webhooks, scripts) pass.
 */
export function installSameOriginCheck(
  app: FastifyInstance,
  opts: { publicOrigin?: string },
): void {
  const configured = opts.publicOrigin?.toLowerCase();
  app.addHook('onRequest', async (req, reply) => {
    if (SAFE.has(req.method)) return;
    const origin = req.headers.origin?.toLowerCase();
    const cookieOnly = !req.headers.authorization && SESSION_COOKIE.test(req.headers.cookie ?? '');
    if (origin === undefined ? !cookieOnly : origin === ownOrigin(req) || origin === configured)
      return;
    return reply
      .status(403)
      .send(
        errorBody(
          'CROSS_ORIGIN',
          origin === undefined
            ? 'a request authenticated by the session cookie must carry an Origin header'
            : `requests from ${origin} are not accepted; use this site's own pages`,
        ),
      );
  });
}
