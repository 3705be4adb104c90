import type { FastifyInstance } from 'fastify';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { installGuard } from '../guard.js';
import type { OperatorAuthenticator } from '../operator-auth.js';
import { installRentalErrors } from '../rental-errors.js';
import { registerAccountRoutes } from './account-routes.js';
import { registerCatalogRoutes } from './catalog-routes.js';
import { registerOperatorRentalRoutes } from './operator-rental-routes.js';
import { registerOrderRoutes } from './order-routes.js';
import { registerReservationRoutes } from './reservation-routes.js';
import { registerWebhookRoutes } from './webhook-routes.js';

/** Largest request body of a rental route. */
export const RENTAL_BODY_LIMIT = 16 * 1024;

/** The rental HTTP API (accounts, catalog, orders, reservations, webhooks), in its own encapsulated scope. */
export async function registerRentalRoutes(
  scope: FastifyInstance,
  domain: RentalDomain,
  adminAuth: OperatorAuthenticator,
): Promise<void> {
  installRentalErrors(scope, domain.deps.logger);
  installGuard(scope, domain.accounts, adminAuth);
  registerAccountRoutes(scope, domain);
  registerCatalogRoutes(scope, domain);
  registerOrderRoutes(scope, domain);
  registerReservationRoutes(scope, domain);
  registerOperatorRentalRoutes(scope, domain);
  await scope.register(async (hooks) => registerWebhookRoutes(hooks, domain));
}
