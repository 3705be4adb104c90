import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { RentalError } from '../../rental/errors.js';
import { PaymentError } from '../../rental/payments/provider.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { route } from '../schemas/common.js';
import { WebhookAnswer } from '../schemas/components.js';
import { ProviderParams } from '../schemas/fleet.js';

/** `POST /api/payments/webhook/:provider`: raw body kept for the signature check; duplicates ignored. */
export function registerWebhookRoutes(fastify: FastifyInstance, d: RentalDomain): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: 64 * 1024 },
    (_req, body, done) => done(null, body),
  );
  app.post(
    '/api/payments/webhook/:provider',
    route({
      method: 'POST',
      summary: "The payment provider's signed notifications (not for renters)",
      description:
        "The body is the provider's JSON, checked against its signature header; a duplicate event is acknowledged and ignored.",
      tags: ['payments'],
      access: 'public',
      params: ProviderParams,
      response: { 200: WebhookAnswer },
      errors: ['NOT_FOUND', 'WEBHOOK_INVALID'],
    }),
    async (req) => {
      if (req.params.provider !== d.provider.name)
        throw new RentalError('NOT_FOUND', `no payment provider ${req.params.provider}`, 404);
      let ev: ReturnType<typeof d.provider.parseWebhook>;
      try {
        ev = d.provider.parseWebhook(req.body as Buffer, req.headers);
      } catch (err) {
        if (err instanceof PaymentError) throw new RentalError('WEBHOOK_INVALID', err.message, 400);
        throw err;
      }
      const fresh = await d.payments.applyWebhook(ev);
      return { received: true as const, duplicate: !fresh };
    },
  );
}
