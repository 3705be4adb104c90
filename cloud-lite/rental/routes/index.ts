import type { FastifyInstance } from 'fastify';
import type { RentalDomain } from '../rental-domain.js';
import { registerAccountRoutes } from './account-routes.js';
import { registerCatalogRoutes } from './catalog-routes.js';
import { installRentalErrors } from './errors.js';
import { installGuard } from './guard.js';
import { registerOperatorRentalRoutes } from './operator-routes.js';
import { registerOrderRoutes } from './order-routes.js';
import { registerReservationRoutes } from './reservation-routes.js';
import { registerWebhookRoutes } from './webhook-routes.js';

/** Largest request body of a rental route. */
export const RENTAL_BODY_LIMIT = 16 * 1024;

/** The rental HTTP API (accounts, catalog, orders, reservations, webhooks), in its own encapsulated scope. */
export async function registerRentalRoutes(
  scope: FastifyInstance,
  domain: RentalDomain,
): Promise<void> {
  installRentalErrors(scope, domain.deps.logger);
  installGuard(scope, domain.accounts, domain.deps.adminAuth);
  registerAccountRoutes(scope, domain);
  registerCatalogRoutes(scope, domain);
  registerOrderRoutes(scope, domain);
  registerReservationRoutes(scope, domain);
  registerOperatorRentalRoutes(scope, domain);
  await scope.register(async (hooks) => registerWebhookRoutes(hooks, domain));
}
