import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's process and Node.js metrics under `prefix`, without the three gauges it names
 * `*_total` (`nodejs_active_handles_total` and the like), which `promtool check metrics` refuses
 * as non-counters ending in `_total`; the same figures stay by type in `nodejs_active_handles`,
 * `nodejs_active_requests` and `nodejs_active_resources`.
 */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    registry.removeSingleMetric(`${prefix}nodejs_${name}`);
}
