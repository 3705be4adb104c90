import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { RentalError } from '../../rental/errors.js';
import { PaymentError } from '../../rental/payments/provider.js';
import type { RentalDomain } from '../../rental/rental-domain.js';

/** `POST /api/payments/webhook/:provider`: raw body kept for the signature check; duplicates ignored. */
export function registerWebhookRoutes(app: FastifyInstance, d: RentalDomain): void {
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: 64 * 1024 },
    (_req, body, done) => done(null, body),
  );
  app.post<{ Params: { provider: string }; Body: Buffer }>(
    '/api/payments/webhook/:provider',
    {
      config: { access: 'public' },
      schema: { params: Type.Object({ provider: Type.String({ maxLength: 32 }) }) },
    },
    async (req) => {
      if (req.params.provider !== d.provider.name)
        throw new RentalError('NOT_FOUND', `no payment provider ${req.params.provider}`, 404);
      let ev: ReturnType<typeof d.provider.parseWebhook>;
      try {
        ev = d.provider.parseWebhook(req.body, req.headers);
      } catch (err) {
        if (err instanceof PaymentError) throw new RentalError('WEBHOOK_INVALID', err.message, 400);
        throw err;
      }
      const fresh = await d.payments.applyWebhook(ev);
      return { received: true, duplicate: !fresh };
    },
  );
}
