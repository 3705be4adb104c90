import type { FastifyInstance } from 'fastify';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { registerAccountRoutes } from './account-routes.js';
import { registerCatalogRoutes } from './catalog-routes.js';
import { registerOperatorRentalRoutes } from './operator-rental-routes.js';
import { registerOrderRoutes } from './order-routes.js';
import { registerPasswordResetRoutes } from './password-reset-routes.js';
import { registerPaymentMethodRoutes } from './payment-method-routes.js';
import { registerReservationRoutes } from './reservation-routes.js';
import { registerWebhookRoutes } from './webhook-routes.js';

/** The rental HTTP API (accounts, catalog, orders, reservations, operator extras, webhooks). */
export async function registerRentalRoutes(
  app: FastifyInstance,
  domain: RentalDomain,
): Promise<void> {
  registerAccountRoutes(app, domain);
  registerPasswordResetRoutes(app, domain);
  registerCatalogRoutes(app, domain);
  registerOrderRoutes(app, domain);
  registerReservationRoutes(app, domain);
  registerOperatorRentalRoutes(app, domain);
  registerPaymentMethodRoutes(app, domain);
  // Its own scope: the webhook's JSON parser keeps the raw body for the signature check.
  await app.register(async (hooks) => registerWebhookRoutes(hooks, domain));
}
