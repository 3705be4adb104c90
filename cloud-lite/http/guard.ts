import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../audit.js';
import { parseBasicAuth } from '../hub/upgrade-auth.js';
import { sameSecret } from '../registry/secrets.js';
import type { Identity } from '../rental/accounts/accounts.js';
import type { Role } from '../store/types.js';
import { sendError } from './errors.js';

/**
 * Who may call a route; every route declares one in `config.access` (the hub refuses to start
 * otherwise). For people, a session (the `dk_session` cookie, or `Authorization: Bearer` with
 * the session token): `account` (any logged-in user, acting for themselves), `staff`
 * (technician, operator, admin), `operator` (operator, admin), `admin`; the configured admin
 * token counts as an admin without an account (never for `account`). For machines:
 * `metrics` (the metrics token or the admin token), `kiosk-or-operator` (a kiosk's Basic
 * credentials `kioskId:secret`, as on the WebSocket upgrade, or an operator). `public`: anyone.
 */
export type Access =
  | 'public'
  | 'account'
  | 'staff'
  | 'operator'
  | 'admin'
  | 'metrics'
  | 'kiosk-or-operator';

export const ACCESS_LEVELS: readonly Access[] = [
  'public',
  'account',
  'staff',
  'operator',
  'admin',
  'metrics',
  'kiosk-or-operator',
];

export interface Who {
  userId: string;
  role: Role;
  via: 'session' | 'admin-token';
  token?: string;
}

/** What a long answer (a live stream, http/sse.ts) checks again about its caller while it runs. */
export interface StillAllowed {
  /** Whether the caller's session still allows the route: not logged out or expired, the role kept. */
  check(): Promise<boolean>;
  /** Calls `fn` when sessions of the caller end in this process (logout); returns the unsubscribe. */
  onEnded(fn: () => void): () => void;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    who?: Who;
    /** The kiosk a `kiosk-or-operator` request authenticated as (Basic credentials). */
    kioskId?: string;
    /** For a person's request: checks the session again (set by the guard). */
    stillAllowed?: StillAllowed;
  }
}

const PEOPLE: Record<'account' | 'staff' | 'operator' | 'admin', readonly Role[]> = {
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

/** The token of `Authorization: Bearer <token>`, or undefined. */
function bearer(req: FastifyRequest): string | undefined {
  return /^Bearer (\S+)$/.exec((req.headers.authorization ?? '').trim())?.[1];
}

/**
 * The session token of a request: the bearer header (API clients), else the session cookie
 * (the web pages, live streams included). Never the URL: a token there ends up in logs and
 * browser history.
 */
export function requestToken(req: FastifyRequest): string | undefined {
  return bearer(req) ?? cookie(req, SESSION_COOKIE);
}

export const actorOf = (req: FastifyRequest): Actor => ({
  actor: req.who
    ? req.who.via === 'admin-token'
      ? 'admin-token'
      : `user:${req.who.userId}`
    : 'anonymous',
  ip: req.ip,
});

export interface GuardDeps {
  /** A session token's user (Accounts.authenticate). */
  authenticateSession: (token: string) => Promise<Identity | undefined>;
  /** A kiosk's Basic credentials (KioskRegistry.authenticate, as on the WebSocket upgrade). */
  authenticateKiosk: (kioskId: string, secret: string) => Promise<boolean>;
  adminToken: string;
  /** Accepted on `/metrics` besides the admin token. */
  metricsToken?: string;
  /** Tells of ended sessions (Accounts.onSessionsEnded): a live stream then checks its own. */
  onSessionsEnded?: (listener: (userId: string) => void) => () => void;
}

const DENIALS: Record<Exclude<Access, 'public'>, string> = {
  account: 'log in first (Authorization: Bearer <session token>)',
  staff: 'log in first (Authorization: Bearer <session token>)',
  operator: 'operator authentication required: send Authorization: Bearer <token>',
  admin: 'operator authentication required: send Authorization: Bearer <token>',
  metrics: 'metrics need a token: send Authorization: Bearer <metricsToken or adminToken>',
  'kiosk-or-operator':
    'content needs a kiosk (Basic kioskId:secret) or an operator (Bearer) credential',
};

function deny(reply: FastifyReply, access: Exclude<Access, 'public'>, status: 401 | 403) {
  if (status === 403) return sendError(reply, 403, 'FORBIDDEN', 'your role may not do this');
  reply.header(
    'www-authenticate',
    access === 'kiosk-or-operator' ? 'Basic realm="disk-kiosk content"' : 'Bearer',
  );
  return sendError(reply, 401, 'UNAUTHENTICATED', DENIALS[access]);
}

/**
 * The one route guard, on `app` (every route registered after it): checks at registration that
 * each route declares `config.access` (routes hidden from the API document, the documentation
 * page's own files, default to public), and on each request, before the body is read, that the
 * caller may call it: 401 UNAUTHENTICATED without a valid credential, 403 FORBIDDEN for a role
 * that may not. The caller lands on `req.who` (people) or `req.kioskId` (a kiosk).
 */
export function installGuard(app: FastifyInstance, deps: GuardDeps): void {
  app.decorateRequest('who', undefined);
  app.decorateRequest('kioskId', undefined);
  app.addHook('onRoute', (route) => {
    if (route.config?.access) return;
    if ((route.schema as { hide?: boolean } | undefined)?.hide) {
      route.config = { ...route.config, access: 'public' };
      return;
    }
    throw new Error(`route ${route.method} ${route.url} declares no access rule`);
  });
  const isAdminToken = (token: string | undefined) =>
    token !== undefined && sameSecret(token, deps.adminToken);
  /** The person behind a request: a session, else the admin token; undefined for neither. */
  const person = async (req: FastifyRequest): Promise<Who | undefined> => {
    const token = requestToken(req);
    if (!token) return undefined;
    const id = await deps.authenticateSession(token);
    if (id) return { ...id, via: 'session', token };
    if (isAdminToken(bearer(req)))
      return { userId: 'admin-token', role: 'admin', via: 'admin-token' };
    return undefined;
  };
  /** The re-check of `who` for `roles` (the admin token stays valid: it is configuration). */
  const stillAllowed = (who: Who, roles: readonly Role[]): StillAllowed => ({
    async check() {
      if (who.via !== 'session' || !who.token) return true;
      let id: Awaited<ReturnType<typeof deps.authenticateSession>>;
      try {
        id = await deps.authenticateSession(who.token);
      } catch {
        return true; // the store failing is not a "no": the next check (15 s) decides
      }
      return id?.userId === who.userId && roles.includes(id.role);
    },
    onEnded(fn) {
      if (who.via !== 'session' || !deps.onSessionsEnded) return () => {};
      return deps.onSessionsEnded((userId) => {
        if (userId === who.userId) fn();
      });
    },
  });
  app.decorateRequest('stillAllowed', undefined);
  app.addHook('onRequest', async (req, reply) => {
    // Every route declares its access (onRoute); only the not-found handler has none.
    const access = req.routeOptions.config.access ?? 'public';
    switch (access) {
      case 'public':
        return;
      case 'metrics': {
        const token = bearer(req);
        const ok =
          isAdminToken(token) ||
          (!!deps.metricsToken && token !== undefined && sameSecret(token, deps.metricsToken));
        if (!ok) return deny(reply, access, 401);
        return;
      }
      case 'kiosk-or-operator': {
        const basic = parseBasicAuth(req.raw);
        if (basic) {
          if (!(await deps.authenticateKiosk(basic.kioskId, basic.secret)))
            return deny(reply, access, 401);
          req.kioskId = basic.kioskId;
          return;
        }
        req.who = await person(req);
        if (!req.who) return deny(reply, access, 401);
        if (!PEOPLE.operator.includes(req.who.role)) return deny(reply, access, 403);
        req.stillAllowed = stillAllowed(req.who, PEOPLE.operator);
        return;
      }
      default: {
        req.who = await person(req);
        if (!req.who) return deny(reply, access, 401);
        if (!PEOPLE[access].includes(req.who.role)) return deny(reply, access, 403);
        if (access === 'account' && req.who.via !== 'session') return deny(reply, access, 403);
        req.stillAllowed = stillAllowed(req.who, PEOPLE[access]);
      }
    }
  });
}
