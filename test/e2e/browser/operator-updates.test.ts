// The operator's software updates page in a browser: the fleet's versions, a rollout's kiosks,
// halting it with a confirmation, a kiosk's update history (split from operator-dashboard.test.ts
// so that no browser file comes near tap's per-file timeout on a loaded machine).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { storeBlob } from '../../../cloud-lite/content/import-tree.js';
import type { UpdateStatusData } from '../../../protocol/index.js';
import { startWebHub, WEB_ADMIN_TOKEN } from '../../cloud-lite/web/web-hub.js';
import { checkPage, chromiumMissing, openBrowser, watchConsole } from './fixtures/browser.js';
import { admin, readySlot, seedCatalog, seedKiosk } from './fixtures/fleet.js';

t.test(
  "operator: the fleet's versions, a rollout's kiosks, halt with a confirmation, a kiosk's update history",
  async (t) => {
    if (chromiumMissing(t)) return;
    const hub = await startWebHub(t);
    await seedCatalog(hub);
    const site = { name: 'Harbour', address: 'Quay 1', lat: 53.54, lng: 9.98 };
    const k1 = await seedKiosk(t, hub, 'kiosk-u1', site, [readySlot(1, 'disk-a')]);
    // A second kiosk enrolled but never connected: its part of the rollout stays pending.
    await admin(hub, 'POST', '/api/operator/kiosks', { id: 'kiosk-u2', name: 'Station' });
    const bundle = path.join(hub.dir, 'bundle.raucb');
    writeFileSync(bundle, Buffer.alloc(4096, 7));
    const blob = await storeBlob(hub.server.content, bundle);
    const created = await admin(hub, 'POST', '/api/operator/rollouts', {
      version: '2.0.0',
      bundleSha256: blob.sha256,
      waves: ['1', '100%'],
      kiosks: ['kiosk-u1', 'kiosk-u2'],
    });
    const install = await k1.waitForCommand((c) => c.action === 'InstallUpdate');
    const commandId = install.payload.commandId as string;
    const step = (state: UpdateStatusData['state'], more: Partial<UpdateStatusData> = {}) =>
      k1.sendEvent('UpdateStatus', {
        commandId,
        version: '2.0.0',
        fromVersion: '0.1.0-test',
        state,
        ...more,
      });
    await step('downloading', { percent: 10 });
    await step('downloading', { percent: 100 });
    await step('installing', { percent: 100 });
    await step('rebooting');
    await step('trial');
    await step('committed');
    await hub.server.rollouts.settled();

    const { page } = await openBrowser(t, { width: 1280, height: 900 });
    const problems = watchConsole(page);
    await page.goto(`${hub.baseUrl}/ops`);
    await page.getByLabel('Admin token').fill(WEB_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use admin token' }).click();
    const row = page.locator('tr[data-kiosk="kiosk-u1"]');
    await row.waitFor();
    t.match((await row.textContent()) ?? '', /0\.1\.0-test/, 'the fleet table shows the version');

    await page.getByRole('link', { name: 'Updates', exact: true }).click();
    await page.getByRole('heading', { name: 'Software updates' }).waitFor();
    const running = page.locator('li[data-version="0.1.0-test"]');
    await running.waitFor();
    t.match((await running.textContent()) ?? '', /1 kiosk \(kiosk-u1\)/);
    t.match(
      (await page.locator('li[data-version="unknown"]').textContent()) ?? '',
      /kiosk-u2/,
      'a kiosk that never booted is listed as unknown',
    );
    const item = page.locator(`li[data-rollout="${created.rollout.id}"]`);
    t.match((await item.textContent()) ?? '', /running/);
    await item.getByRole('button', { name: 'Version 2.0.0' }).click();
    await item.locator('tr[data-kiosk="kiosk-u2"]').waitFor();
    t.match((await item.locator('tr[data-kiosk="kiosk-u1"]').textContent()) ?? '', /committed/);
    t.match((await item.locator('tr[data-kiosk="kiosk-u2"]').textContent()) ?? '', /pending/);
    await item.getByRole('button', { name: 'Halt' }).click();
    t.equal(
      (await admin(hub, 'GET', `/api/operator/rollouts/${created.rollout.id}`)).rollout.state,
      'running',
      'one click only asks',
    );
    await item.getByRole('button', { name: 'Yes, halt' }).click();
    await item.getByRole('button', { name: 'Resume' }).waitFor();
    t.equal(
      (await admin(hub, 'GET', `/api/operator/rollouts/${created.rollout.id}`)).rollout.state,
      'halted',
      'the confirmation halts it',
    );
    await checkPage(t, page, 'ops-updates');

    await item.getByRole('link', { name: 'kiosk-u1' }).click();
    await page.getByRole('heading', { name: 'Update history' }).waitFor();
    const steps = page.locator('ol.updates > li');
    await steps.first().waitFor();
    t.same(
      await steps.evaluateAll((lis) => lis.map((li) => li.getAttribute('data-update-state'))),
      ['committed', 'trial', 'rebooting', 'installing', 'downloading'],
      'newest first, one line per step (the download reported twice)',
    );
    t.match((await steps.last().textContent()) ?? '', /0\.1\.0-test → 2\.0\.0: downloading 100%/);
    // The fleet's remote configuration page.
    await page.getByRole('link', { name: 'Configuration', exact: true }).click();
    await page.getByRole('heading', { name: 'Remote configuration', level: 1 }).waitFor();
    await checkPage(t, page, 'ops-config');
    t.same(problems, [], 'no page errors or CSP violations');
  },
);
