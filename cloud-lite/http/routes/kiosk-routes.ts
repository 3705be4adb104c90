import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { KioskRegistry } from '../../registry/kiosk-registry.js';
import { Throttle } from '../../store/throttle.js';
import type { Store } from '../../store/types.js';
import { sendError } from '../errors.js';

export interface KioskRoutesDeps {
  registry: KioskRegistry;
  store: Store;
  publicKeyPem: string;
  publicUrl?: string;
  /** Failed enrolments one client address may make within `windowSeconds`. */
  enrolLimit: { max: number; windowSeconds: number };
}

const EnrolBody = Type.Object(
  {
    kioskId: Type.String({ minLength: 1, maxLength: 64 }),
    token: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);

/**
 * Routes a kiosk calls without operator auth: enrolment (failures limited per client address,
 * 429 TOO_MANY_ATTEMPTS) and the hub's public key.
 */
export function registerKioskRoutes(app: FastifyInstance, deps: KioskRoutesDeps): void {
  const throttle = new Throttle();
  app.post<{ Body: { kioskId: string; token: string } }>(
    '/api/kiosks/enrol',
    { config: { access: 'public' }, schema: { body: EnrolBody } },
    async (req, reply) => {
      // Counted before the token is checked (parallel tries cannot outrun the count); a
      // successful enrolment takes its count back.
      const limits = [{ key: `enrol:${req.ip}`, ...deps.enrolLimit }];
      const at = new Date();
      const retry = await deps.store.transaction((tx) => throttle.take(tx, limits, at));
      if (retry > 0)
        return sendError(
          reply,
          429,
          'TOO_MANY_ATTEMPTS',
          `too many failed enrolments from this address; try again in ${retry} s`,
          { retryAfterSeconds: retry },
        );
      const { kioskId, secret } = await deps.registry.enrol(req.body.kioskId, req.body.token);
      await deps.store.transaction((tx) => throttle.release(tx, limits, at));
      return {
        kioskId,
        secret,
        hubPublicKey: deps.publicKeyPem,
        ...(deps.publicUrl ? { hubUrl: deps.publicUrl } : {}),
      };
    },
  );
  app.get('/api/hub/public-key', { config: { access: 'public' } }, async (_req, reply) => {
    reply.type('application/x-pem-file').send(deps.publicKeyPem);
  });
}
