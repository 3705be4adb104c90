import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { KioskHub } from '../../hub/hub.js';
import type { HubMetrics } from '../../metrics.js';
import type { Store } from '../../store/types.js';
import { Media, route } from '../schemas/common.js';
import { Health } from '../schemas/components.js';

export interface SystemRoutesDeps {
  hub: KioskHub;
  store: Store;
  metrics: HubMetrics;
}

/** `/healthz` (open: up, and how many kiosks are connected) and `/metrics` (Prometheus, behind a token). */
export function registerSystemRoutes(fastify: FastifyInstance, deps: SystemRoutesDeps): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['system'];
  app.get(
    '/healthz',
    route({
      method: 'GET',
      summary: 'The hub is up; how many kiosks are connected',
      tags,
      access: 'public',
      response: { 200: Health },
    }),
    async () => ({ status: 'ok' as const, connectedKiosks: deps.hub.connectedCount }),
  );
  app.get(
    '/metrics',
    route({
      method: 'GET',
      summary: 'Prometheus metrics (the metrics token as bearer)',
      tags,
      access: 'metrics',
      response: { 200: Media('text/plain', 'Prometheus text exposition format 0.0.4') },
    }),
    async (_req, reply) => {
      reply.type(deps.metrics.contentType).send(await deps.metrics.render());
    },
  );
}
