import type { FastifyInstance } from 'fastify';
import type { KioskHub } from '../../hub/hub.js';
import type { HubMetrics } from '../../metrics.js';
import type { Store } from '../../store/types.js';

export interface SystemRoutesDeps {
  hub: KioskHub;
  store: Store;
  metrics: HubMetrics;
}

/** `/healthz` (open: up, and how many kiosks are connected) and `/metrics` (Prometheus, behind a token). */
export function registerSystemRoutes(app: FastifyInstance, deps: SystemRoutesDeps): void {
  app.get('/healthz', { config: { access: 'public' } }, async () => ({
    status: 'ok',
    connectedKiosks: deps.hub.connectedCount,
  }));
  app.get('/metrics', { config: { access: 'metrics' } }, async (_req, reply) => {
    const commandsByState = await deps.store.transaction((tx) => tx.commands.countByState());
    reply
      .type('text/plain; version=0.0.4')
      .send(deps.metrics.render({ connectedKiosks: deps.hub.connectedCount, commandsByState }));
  });
}
