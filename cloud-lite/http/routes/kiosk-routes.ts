import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { KioskRegistry } from '../../registry/kiosk-registry.js';
import { Throttle } from '../../store/throttle.js';
import type { Store } from '../../store/types.js';
import { sendError } from '../errors.js';
import { Media, route } from '../schemas/common.js';
import { EnrolAnswer } from '../schemas/components.js';
import { EnrolBody } from '../schemas/fleet.js';

export interface KioskRoutesDeps {
  registry: KioskRegistry;
  store: Store;
  publicKeyPem: string;
  publicUrl?: string;
  /** Failed enrolments one client address may make within `windowSeconds`. */
  enrolLimit: { max: number; windowSeconds: number };
}

/**
 * Routes a kiosk calls without operator auth: enrolment (failures limited per client address,
 * 429 TOO_MANY_ATTEMPTS) and the hub's public key.
 */
export function registerKioskRoutes(fastify: FastifyInstance, deps: KioskRoutesDeps): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const throttle = new Throttle();
  const tags = ['kiosks'];
  app.post(
    '/api/kiosks/enrol',
    route({
      method: 'POST',
      summary: "A kiosk enrols with its one-time token: answers the kiosk's secret",
      description:
        'What `kioskctl enrol` calls. Failed enrolments are limited per client address (TOO_MANY_ATTEMPTS with retryAfterSeconds). The kiosk then connects to /kiosk (WebSocket, docs/protocol.md) with Basic credentials id:secret.',
      tags,
      access: 'public',
      body: EnrolBody,
      response: { 200: EnrolAnswer },
      errors: ['ENROLMENT_INVALID', 'KIOSK_REVOKED', 'TOO_MANY_ATTEMPTS'],
    }),
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
  app.get(
    '/api/hub/public-key',
    route({
      method: 'GET',
      summary: "The hub's public key (PEM), which verifies its signed commands and manifests",
      tags,
      access: 'public',
      response: { 200: Media('application/x-pem-file', 'the public key, PEM (SPKI)') },
    }),
    async (_req, reply) => {
      reply.type('application/x-pem-file').send(deps.publicKeyPem);
    },
  );
}
