import { collectDefaultMetrics, type Registry } from 'prom-client';

export interface ProcessMetricsOptions {
  /**
   * How often the event loop delay is sampled, in ms (prom-client's
   * `eventLoopMonitoringPrecision`; its default, 10 ms, wakes an idle process 100 times a
   * second).
   */
  eventLoopResolutionMs?: number;
}

/**
 * prom-client's process and Node.js metrics under `prefix`, without the three gauges it names
 * `*_total` (`nodejs_active_handles_total` and the like), which `promtool check metrics` refuses
 * as non-counters ending in `_total`; the same figures stay by type in `nodejs_active_handles`,
 * `nodejs_active_requests` and `nodejs_active_resources`.
 */
export function collectProcessMetrics(
  registry: Registry,
  prefix: string,
  opts: ProcessMetricsOptions = {},
): void {
  collectDefaultMetrics({
    register: registry,
    prefix,
    ...(opts.eventLoopResolutionMs !== undefined
      ? { eventLoopMonitoringPrecision: opts.eventLoopResolutionMs }
      : {}),
  });
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total'])
    registry.removeSingleMetric(`${prefix}nodejs_${name}`);
}
