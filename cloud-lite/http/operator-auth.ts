import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sameSecret } from '../registry/secrets.js';
import { errorBody } from './errors.js';

/** Who is calling the operator API: a subject and its roles (admin token, or a staff account). */
export interface OperatorIdentity {
  subject: string;
  roles: readonly string[];
}

/**
 * Decides who an operator request comes from; undefined means "not authenticated".
 * Swap this (one function) to move from the admin token to accounts.
 */
export type OperatorAuthenticator = (req: FastifyRequest) => Promise<OperatorIdentity | undefined>;

/** `Authorization: Bearer <adminToken>`, compared in constant time. */
export function adminTokenAuthenticator(adminToken: string): OperatorAuthenticator {
  return async (req) => {
    const header = req.headers.authorization;
    if (typeof header !== 'string') return undefined;
    const m = /^Bearer (\S+)$/.exec(header.trim());
    if (!m || !sameSecret(m[1]!, adminToken)) return undefined;
    return { subject: 'admin', roles: ['admin'] };
  };
}

/** Accepts a request when any of `auths` does (first match wins): admin token, staff sessions. */
export function anyAuthenticator(...auths: OperatorAuthenticator[]): OperatorAuthenticator {
  return async (req) => {
    for (const a of auths) {
      const who = await a(req);
      if (who) return who;
    }
    return undefined;
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    operator?: OperatorIdentity;
  }
}

/**
 * Adds the operator authentication hook to `scope` (an encapsulated plugin instance): every
 * route registered in it answers 401 `{error:{code:'EUNAUTHORIZED'}}` unless `authenticate`
 * accepts the request (`refusal` is the message); the identity lands on `request.operator`.
 */
export function requireOperator(
  scope: FastifyInstance,
  authenticate: OperatorAuthenticator,
  refusal = 'operator authentication required: send Authorization: Bearer <token>',
): void {
  scope.decorateRequest('operator', undefined);
  scope.addHook('onRequest', async (req, reply) => {
    const who = await authenticate(req);
    if (!who) {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send(errorBody('EUNAUTHORIZED', refusal));
    }
    req.operator = who;
  });
}
