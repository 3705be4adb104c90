// The operator's attention panel in a browser while a real kioskd child process is killed
// (SIGKILL) and comes back (split from operator-dashboard.test.ts so that no browser file comes
// near tap's per-file timeout on a loaded machine).
import t from 'tap';
import { DemoKiosk } from '../../../scripts/lib/kiosk-process.js';
import { waitUntil } from '../../cloud-lite/fixtures/test-hub.js';
import { startWebHub, WEB_ADMIN_TOKEN } from '../../cloud-lite/web/web-hub.js';
import { tempDir } from '../../kiosk/daemon/harness.js';
import { checkPage, chromiumMissing, openBrowser, watchConsole } from './fixtures/browser.js';
import { admin } from './fixtures/fleet.js';

t.test(
  'operator: the attention panel reacts to a kioskd process killed (SIGKILL), and to its return',
  async (t) => {
    if (chromiumMissing(t)) return;
    const hub = await startWebHub(t, {
      overrides: { alerts: { sweepIntervalMs: 100, offlineAfterSeconds: 0.5 } } as never,
    });
    const kioskId = 'kiosk-real';
    const created = await admin(hub, 'POST', '/api/operator/kiosks', {
      id: kioskId,
      name: 'Old Town',
    });
    const { secret } = await fetch(`${hub.baseUrl}/api/kiosks/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kioskId, token: created.enrolmentToken }),
    }).then((r) => r.json() as Promise<{ secret: string }>);
    // The real kioskd program as a child process, on simulated hardware.
    const kiosk = new DemoKiosk({
      kioskId,
      dir: tempDir(t, 'ops-kioskd-'),
      hubWsUrl: hub.wsUrl,
      secret,
      hubPublicKeyPem: hub.server.signingKey.publicKeyPem,
      slotCount: 2,
      slots: [],
      storage: 'sim',
      boardLink: 'socket',
      logLevel: 'warn',
    });
    t.teardown(() => kiosk.stop(2000));
    // The kioskd child's start (node, its Boot) can take longer than a page wait on a loaded
    // machine: wait for the hub to record it online first (the bound only names a failure).
    const booted = (what: string) =>
      waitUntil(
        what,
        async () =>
          (await hub.server.store.read((r) => r.kiosks.get(kioskId)))?.status === 'online',
        120_000,
      );
    await kiosk.start();
    await booted('kioskd to boot');

    const { page } = await openBrowser(t, { width: 1280, height: 900 });
    const problems = watchConsole(page);
    await page.goto(`${hub.baseUrl}/ops`);
    await page.getByLabel('Admin token').fill(WEB_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use admin token' }).click();
    const row = page.locator(`tr[data-kiosk="${kioskId}"]`);
    await row.filter({ hasText: 'online' }).waitFor();
    const offline = page.locator('tr[data-alert-kind="kiosk_offline"]', { hasText: 'Old Town' });
    t.equal(await offline.count(), 0, 'no offline alert while kioskd runs');

    await kiosk.kill('SIGKILL');
    await row.filter({ hasText: 'offline' }).waitFor();
    await offline.waitFor();
    t.match(await offline.textContent(), /critical\s*Kiosk offline/, 'the panel names it');
    await checkPage(t, page, 'ops-fleet-kioskd-killed');

    // kioskd back: the alert leaves the panel by itself (resolved by the hub), no reload.
    kiosk.respawn();
    await booted('kioskd to boot again');
    await row.filter({ hasText: 'online' }).waitFor();
    await offline.waitFor({ state: 'detached' });
    t.same(problems, [], 'no page errors or CSP violations');
  },
);
