import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { paymentRefusal } from '../../rental/billing/deposits.js';
import type { RentalConfig } from '../../rental/config.js';
import { PaymentError } from '../../rental/payments/provider.js';
import { SandboxProvider } from '../../rental/payments/sandbox/sandbox-provider.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { Exact, route } from '../schemas/common.js';
import { PaymentsConfig } from '../schemas/components.js';

/** Where the sandbox's card endpoint (its stand-in for hosted card fields) answers. */
export const SANDBOX_PAYMENT_METHODS_PATH = '/sandbox-provider/payment-methods';

/** What the renter pages read to collect a card with the configured provider. */
export function paymentsConfigOf(c: RentalConfig) {
  const p = c.payments;
  return p.provider === 'stripe'
    ? {
        provider: 'stripe' as const,
        stripe: { publishableKey: p.stripe.publishableKey ?? null, jsUrl: p.stripe.jsUrl },
        sandbox: null,
      }
    : {
        provider: 'sandbox' as const,
        stripe: null,
        sandbox: { paymentMethodsUrl: SANDBOX_PAYMENT_METHODS_PATH },
      };
}

const SandboxCardBody = Type.Object(
  {
    number: Type.String({ pattern: '^[0-9][0-9 -]{10,30}[0-9]$' }),
    expMonth: Type.Integer({ minimum: 1, maximum: 12 }),
    expYear: Type.Integer({ minimum: 2000, maximum: 2100 }),
    cvc: Type.String({ pattern: '^[0-9]{3,4}$' }),
  },
  {
    additionalProperties: false,
    examples: [{ number: '4242424242424242', expMonth: 12, expYear: 2030, cvc: '123' }],
  },
);

/**
 * How a page gets a payment-method id: GET /api/payments/config (the provider, Stripe's
 * publishable key and Stripe.js URL), and with the sandbox provider its card endpoint, which
 * stands in for a provider's hosted card fields: apart from the rental routes (the provider's
 * side, /sandbox-provider/…), it takes the card and answers `pm_…`.
 */
export function registerPaymentMethodRoutes(fastify: FastifyInstance, d: RentalDomain): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const config = paymentsConfigOf(d.deps.config);
  app.get(
    '/api/payments/config',
    route({
      method: 'GET',
      summary: 'How a page collects a card: the payment provider, and what its card form needs',
      description:
        "The hub never takes card details (CARD_DATA_REFUSED): the page collects the card in the provider's own form, which gives a payment-method id (`pm_…`) to send as `card: {\"paymentMethod\": …}`. `stripe`: load Stripe.js from `jsUrl` with `publishableKey`, mount the Payment Element (`elements({mode: 'payment', amount, currency, captureMethod: 'manual', paymentMethodCreation: 'manual'})`), then `elements.submit()` and `stripe.createPaymentMethod({elements})`. `sandbox`: POST the card to `paymentMethodsUrl` (the sandbox's stand-in for hosted fields).",
      tags: ['payments'],
      access: 'public',
      response: { 200: Type.Ref(PaymentsConfig) },
    }),
    async () => config,
  );
  const sandbox = d.provider;
  if (!(sandbox instanceof SandboxProvider)) return;
  app.post(
    SANDBOX_PAYMENT_METHODS_PATH,
    {
      bodyLimit: 4 * 1024,
      ...route({
        method: 'POST',
        summary: "The sandbox provider's card form: a card in, a payment-method id out",
        description:
          "Only with the `sandbox` provider. Stands in for a real provider's hosted card fields: the card goes to the provider's side, never to a rental route, and the page sends the hub only the `id`. Test cards: 4242424242424242 approves, 4000000000000002 declines, 4000000000009995 has insufficient funds, 4000000000000119 authorises but its answer is lost.",
        tags: ['sandbox-provider'],
        access: 'public',
        body: SandboxCardBody,
        response: {
          201: Exact({
            id: Type.String({ description: 'the payment-method id (pm_…)' }),
            last4: Type.String(),
          }),
        },
        errors: ['VALIDATION', 'CARD_DECLINED'],
      }),
    },
    async (req, reply) => {
      try {
        const pm = await sandbox.createPaymentMethod(req.body);
        reply.status(201);
        return pm;
      } catch (err) {
        if (err instanceof PaymentError) throw paymentRefusal(err.code, err.message);
        throw err;
      }
    },
  );
}
