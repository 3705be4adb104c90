// The hub's listening socket takes the configured backlog (config.listenBacklog): a fleet
// reconnecting at once queues in it instead of having its SYNs dropped by the kernel. Read
// back from the kernel with `ss` (Send-Q of a LISTEN socket is its backlog), which the kernel
// caps at net.core.somaxconn.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { loadConfig } from '../../../cloud-lite/config.js';
import { startTestHub } from '../fixtures/test-hub.js';

function backlogOf(port: number): number {
  const line = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const fields = line.split(/\s+/);
  if (fields[0] !== 'LISTEN') throw new Error(`no listening socket on ${port}: ${line}`);
  return Number(fields[2]);
}

const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

t.test('the configured backlog reaches the listening socket', async (t) => {
  const hub = await startTestHub(t, { listenBacklog: 777 });
  t.equal(backlogOf(hub.port), Math.min(777, somaxconn));
});

t.test('by default 4096 (capped by the kernel), not node’s 511', async (t) => {
  const hub = await startTestHub(t);
  t.equal(hub.config.listenBacklog, 4096);
  const backlog = backlogOf(hub.port);
  t.equal(backlog, Math.min(4096, somaxconn));
  if (somaxconn > 511) t.ok(backlog > 511, `backlog ${backlog}`);
});

t.test('from the environment; a bad value is a clear error', async (t) => {
  const env = { CLOUD_LITE_ADMIN_TOKEN: 'a'.repeat(20) };
  t.equal(loadConfig({ env: { ...env, CLOUD_LITE_LISTEN_BACKLOG: '2048' } }).listenBacklog, 2048);
  for (const bad of ['0', 'many', '70000']) {
    t.throws(
      () => loadConfig({ env: { ...env, CLOUD_LITE_LISTEN_BACKLOG: bad } }),
      { code: 'ECONFIG', message: /listenBacklog/ },
      bad,
    );
  }
});
