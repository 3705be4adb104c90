import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { KioskRegistry } from '../registry/kiosk-registry.js';

export interface KioskRoutesDeps {
  registry: KioskRegistry;
  publicKeyPem: string;
  publicUrl?: string;
}

const EnrolBody = Type.Object(
  {
    kioskId: Type.String({ minLength: 1, maxLength: 64 }),
    token: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);

/** Routes a kiosk calls without operator auth: enrolment and the hub's public key. */
export function registerKioskRoutes(app: FastifyInstance, deps: KioskRoutesDeps): void {
  app.post<{ Body: { kioskId: string; token: string } }>(
    '/api/kiosks/enrol',
    { schema: { body: EnrolBody } },
    async (req) => {
      const { kioskId, secret } = await deps.registry.enrol(req.body.kioskId, req.body.token);
      return {
        kioskId,
        secret,
        hubPublicKey: deps.publicKeyPem,
        ...(deps.publicUrl ? { hubUrl: deps.publicUrl } : {}),
      };
    },
  );
  app.get('/api/hub/public-key', async (_req, reply) => {
    reply.type('application/x-pem-file').send(deps.publicKeyPem);
  });
}
