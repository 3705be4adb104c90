// kioskd's metrics and idle CPU: the Node.js metrics' event loop monitor is the only thing
// that wakes an idle kioskd many times a second (prom-client samples every 10 ms by default).
// It starts only when the metrics are served, and samples once a second.
import perfHooks from 'node:perf_hooks';
import t, { type Test } from 'tap';
import { silentLogger } from '../../../kiosk/log.js';
import { EVENT_LOOP_RESOLUTION_MS, KioskMetrics } from '../../../kiosk/metrics/kiosk-metrics.js';

/** Records the resolution of every event loop monitor started while `t` runs. */
function watchMonitors(t: Test): number[] {
  const started: number[] = [];
  const original = perfHooks.monitorEventLoopDelay;
  perfHooks.monitorEventLoopDelay = (opts) => {
    started.push(opts?.resolution ?? 10);
    return original(opts);
  };
  t.teardown(() => {
    perfHooks.monitorEventLoopDelay = original;
  });
  return started;
}

const metricsFor = () =>
  new KioskMetrics({
    slotStates: () => ['empty'],
    cache: () => undefined,
    link: () => undefined,
    log: silentLogger(),
    host: '127.0.0.1',
    port: 0,
  });

t.test('metrics not served: no event loop monitor, no Node.js metrics', async (t) => {
  const started = watchMonitors(t);
  const m = metricsFor();
  const text = await m.render();
  t.same(started, [], 'no event loop monitor started');
  t.notMatch(text, 'eventloop_lag', 'no event loop metrics');
  t.match(text, 'disk_kiosk_kioskd_slots{state="empty"} 1', "kioskd's own metrics are there");
});

t.test('metrics served: the event loop is sampled once a second, not every 10 ms', async (t) => {
  const started = watchMonitors(t);
  const m = metricsFor();
  t.teardown(() => m.stop());
  await m.start();
  t.same(started, [EVENT_LOOP_RESOLUTION_MS], 'one monitor, at the kiosk resolution');
  t.ok(EVENT_LOOP_RESOLUTION_MS >= 1000, 'at most one wake-up a second');
  const res = await fetch(`http://127.0.0.1:${m.port}/metrics`);
  const text = await res.text();
  t.equal(res.status, 200);
  t.match(text, /disk_kiosk_kioskd_nodejs_eventloop_lag_p99_seconds \d/);
  t.match(text, /disk_kiosk_kioskd_process_cpu_seconds_total \d/);
});
