import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Accounts } from '../rental/accounts/accounts.js';
import type { Actor } from '../rental/audit/audit.js';
import type { Role } from '../store/types.js';
import type { OperatorAuthenticator } from './operator-auth.js';

/**
 * Who may call a route: `public` (anyone), `account` (any logged-in user, acting for
 * themselves), `staff` (technician, operator, admin), `operator` (operator, admin),
 * `admin`. The config admin token counts as an admin without an account.
 */
export type Access = 'public' | 'account' | 'staff' | 'operator' | 'admin';

export interface Who {
  userId: string;
  role: Role;
  via: 'session' | 'admin-token';
  token?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    who?: Who;
  }
}

const ALLOWED: Record<Exclude<Access, 'public'>, readonly Role[]> = {
  account: ['renter', 'technician', 'operator', 'admin'],
  staff: ['technician', 'operator', 'admin'],
  operator: ['operator', 'admin'],
  admin: ['admin'],
};

export const SESSION_COOKIE = 'dk_session';

/**
 * The value of cookie `name`, or undefined when absent or malformed (bad percent-encoding):
 * a bad cookie counts as no cookie, so public routes work and the others answer 401.
 */
function cookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * The session token of a request: the bearer header (API clients), else the session cookie
 * (the web pages, live streams included). Never the URL: a token there ends up in logs and
 * browser history.
 */
export function requestToken(req: FastifyRequest): string | undefined {
  const m = /^Bearer (\S+)$/.exec((req.headers.authorization ?? '').trim());
  if (m) return m[1];
  return cookie(req, SESSION_COOKIE);
}

export const actorOf = (req: FastifyRequest): Actor => ({
  actor: req.who
    ? req.who.via === 'admin-token'
      ? 'admin-token'
      : `user:${req.who.userId}`
    : 'anonymous',
  ip: req.ip,
});

function deny(reply: FastifyReply, status: 401 | 403) {
  const body =
    status === 401
      ? {
          error: {
            code: 'UNAUTHENTICATED',
            message: 'log in first (Authorization: Bearer <session token>)',
          },
        }
      : { error: { code: 'FORBIDDEN', message: 'your role may not do this' } };
  return reply.status(status).send(body);
}

/** Installs the route guard on `scope`: every route must declare `config.access`. */
export function installGuard(
  scope: FastifyInstance,
  accounts: Accounts,
  adminAuth: OperatorAuthenticator,
): void {
  scope.decorateRequest('who', undefined);
  scope.addHook('onRoute', (route) => {
    if (!route.config?.access)
      throw new Error(`route ${route.method} ${route.url} declares no access rule`);
  });
  scope.addHook('preValidation', async (req, reply) => {
    const access = req.routeOptions.config.access ?? 'admin';
    const token = requestToken(req);
    if (token) {
      const id = await accounts.authenticate(token);
      if (id) req.who = { ...id, via: 'session', token };
      else if (await adminAuth(req))
        req.who = { userId: 'admin-token', role: 'admin', via: 'admin-token' };
    }
    if (access === 'public') return;
    if (!req.who) return deny(reply, 401);
    if (!ALLOWED[access].includes(req.who.role)) return deny(reply, 403);
    if (access === 'account' && req.who.via !== 'session') return deny(reply, 403);
  });
}

/** Accepts operator/admin sessions (bearer token or session cookie) on the hub's operator routes. */
export function staffSessionAuthenticator(accounts: Accounts): OperatorAuthenticator {
  return async (req) => {
    const token = requestToken(req);
    if (!token) return undefined;
    const id = await accounts.authenticate(token);
    if (!id || (id.role !== 'operator' && id.role !== 'admin')) return undefined;
    return { subject: `user:${id.userId}`, roles: [id.role] };
  };
}
