// The Prometheus side of issue 21: the example alert rules pass `promtool check rules`, and a
// real scrape of the hub's /metrics and of kioskd's local metrics port (a kioskd connected to
// that hub over a real WebSocket) passes `promtool check metrics` and holds the figures the
// rules use: per-kiosk online and last seen, slots by state, a command round trip, HTTP latency.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { missingTools } from '../../hal/missing-tool.js';
import { startTestHub, waitUntil } from '../cloud-lite/fixtures/test-hub.js';
import { startHubKioskd } from '../helpers/hub-kioskd.js';
import { fullTests } from '../helpers/loop-device.js';
import { haveTools } from '../helpers/tools.js';
import { tempDir } from '../kiosk/daemon/harness.js';

const RULES = path.join(import.meta.dirname, '../../deploy/prometheus/alerts.yml');

/** promtool is needed; a machine without it skips, unless DISK_KIOSK_FULL_TESTS=1 (then it fails). */
function promtool(t: {
  plan(n: number, comment?: string): void;
  fail(message: string, extra: object): unknown;
}): boolean {
  if (missingTools(['promtool']).length > 0 && !fullTests()) {
    t.plan(0, 'skip: promtool missing (Debian prometheus; scripts/setup.sh installs it)');
    return false;
  }
  return haveTools(t, ['promtool']);
}

function checkMetrics(text: string) {
  return spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
}

t.test('deploy/prometheus/alerts.yml passes promtool check rules', async (t) => {
  if (!promtool(t)) return;
  const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
  t.equal(r.status, 0, `promtool check rules: ${r.stdout}${r.stderr}`);
  t.match(r.stdout, /SUCCESS: \d+ rules found/);
});

t.test('promtool check metrics refuses a broken exposition (the check is real)', async (t) => {
  if (!promtool(t)) return;
  const r = checkMetrics('# TYPE x counter\nx{a="1" 3\n');
  t.not(r.status, 0);
});

t.test('a scrape of the hub and of kioskd passes promtool check metrics', async (t) => {
  if (!promtool(t)) return;
  const hub = await startTestHub(t);
  const kioskId = 'kiosk-metrics-1';
  const { daemon, config } = await startHubKioskd(t, hub, tempDir(t, 'kioskd-metrics-'), kioskId, {
    slots: 3,
    over: { metrics: { port: 0 } },
  });
  t.equal(config.metrics.host, '127.0.0.1', 'loopback by default');
  await waitUntil('kiosk connected', () => hub.server.hub.isConnected(kioskId), 30_000);
  await waitUntil('kiosk booted', async () => {
    const k = await hub.server.store.transaction((tx) => tx.kiosks.get(kioskId));
    return !!k?.lastSeenAt && !!k.softwareVersion;
  });
  // One command round trip for the histogram.
  const cmd = await hub.server.hub.sendCommand(
    kioskId,
    'TriggerMessage',
    { message: 'Heartbeat' },
    new Date(Date.now() + 60_000),
  );
  t.equal((await hub.server.hub.waitFor(cmd.id, { timeoutMs: 10_000 })).state, 'completed');
  await waitUntil('slots reported', async () => {
    const s = await hub.server.store.transaction((tx) => tx.slots.list(kioskId));
    return s.length === 3;
  });

  await hub.server.store.transaction((tx) =>
    hub.server.alerts.raise(tx, {
      kind: 'slot_fault',
      key: `${kioskId}/1`,
      kioskId,
      message: 'slot 1 jammed (seeded by the test)',
    }),
  );
  const hubRes = await hub.api('GET', '/metrics');
  t.equal(hubRes.status, 200);
  const hubText = String(hubRes.body);
  const hubCheck = checkMetrics(hubText);
  t.equal(hubCheck.status, 0, `hub scrape: ${hubCheck.stdout}${hubCheck.stderr}`);
  t.match(hubText, `disk_kiosk_hub_kiosk_online{kiosk="${kioskId}"} 1\n`);
  t.match(
    hubText,
    new RegExp(`disk_kiosk_hub_kiosk_last_seen_timestamp_seconds\\{kiosk="${kioskId}"\\} \\d+`),
  );
  t.match(hubText, `disk_kiosk_hub_slots{kiosk="${kioskId}",state="empty"} 3\n`);
  t.match(hubText, 'disk_kiosk_hub_connected_kiosks 1\n', 'the old name still works');
  t.match(hubText, 'disk_kiosk_hub_commands{state="completed"} 1\n');
  t.match(
    hubText,
    'disk_kiosk_hub_command_round_trip_seconds_count{action="TriggerMessage",outcome="completed"} 1\n',
  );
  t.match(
    hubText,
    /disk_kiosk_hub_http_request_duration_seconds_count\{method="POST",route="\/api\/operator\/kiosks",status_code="201"\} 1\n/,
  );
  t.match(hubText, /disk_kiosk_hub_process_cpu_seconds_total \d/);
  t.match(hubText, 'disk_kiosk_hub_alerts{kind="slot_fault",state="open"} 1\n', 'alert counts');

  t.ok(daemon.metrics?.port, 'kioskd metrics bound a port');
  const kres = await fetch(`http://127.0.0.1:${daemon.metrics!.port}/metrics`);
  t.equal(kres.status, 200);
  const kText = await kres.text();
  const kCheck = checkMetrics(kText);
  t.equal(kCheck.status, 0, `kioskd scrape: ${kCheck.stdout}${kCheck.stderr}`);
  t.match(kText, 'disk_kiosk_kioskd_slots{state="empty"} 3\n');
  t.match(kText, 'disk_kiosk_kioskd_hub_connected 1\n');
  t.match(kText, /disk_kiosk_kioskd_hub_connects_total [1-9]/);
  t.match(kText, /disk_kiosk_kioskd_cache_max_bytes \d/);
  t.equal((await fetch(`http://127.0.0.1:${daemon.metrics!.port}/other`)).status, 404);

  // The kiosk goes away: online drops to 0, last seen stays.
  await daemon.stop();
  await waitUntil('kiosk offline', () => !hub.server.hub.isConnected(kioskId), 30_000);
  const after = String((await hub.api('GET', '/metrics')).body);
  t.match(after, `disk_kiosk_hub_kiosk_online{kiosk="${kioskId}"} 0\n`);
  t.match(after, `disk_kiosk_hub_kiosk_last_seen_timestamp_seconds{kiosk="${kioskId}"}`);
});
