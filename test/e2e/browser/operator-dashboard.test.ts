import t from 'tap';
import { startWebHub, WEB_ADMIN_TOKEN } from '../../cloud-lite/web/web-hub.js';
import { chromiumMissing, openBrowser, screenshot, watchConsole } from './fixtures/browser.js';
import { readySlot, seedCatalog, seedKiosk } from './fixtures/fleet.js';

t.test(
  'operator: log in with the admin token, see the fleet, disable a slot, enrol a kiosk',
  async (t) => {
    if (chromiumMissing(t)) return;
    const hub = await startWebHub(t);
    await seedCatalog(hub);
    const kiosk = await seedKiosk(
      t,
      hub,
      'kiosk-ops',
      { name: 'Harbour', address: 'Quay 1', lat: 53.54, lng: 9.98 },
      [
        readySlot(1, 'disk-a'),
        { slot: 2, state: 'empty', writeProtect: false },
        readySlot(3, 'disk-c'),
      ],
    );
    const { page } = await openBrowser(t, { width: 1280, height: 900 });
    const problems = watchConsole(page);

    await page.goto(`${hub.baseUrl}/ops`);
    await page.getByLabel('Admin token').fill('not-the-token-not-the-token');
    await page.getByRole('button', { name: 'Use admin token' }).click();
    await page.getByRole('alert').filter({ hasText: 'Log in first' }).waitFor();
    await page.getByLabel('Admin token').fill(WEB_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use admin token' }).click();

    const row = page.locator('tr[data-kiosk="kiosk-ops"]');
    await row.waitFor();
    t.match((await row.textContent()) ?? '', /online/);
    t.match((await row.textContent()) ?? '', /1 empty, 2 ready/);
    await screenshot(page, 'ops-fleet');

    await row.getByRole('link', { name: 'kiosk-ops' }).click();
    await page.getByRole('heading', { name: 'Kiosk kiosk-ops' }).waitFor();
    await page.getByRole('button', { name: 'Disable slot 2' }).click();
    await page.locator('#ops-status').filter({ hasText: 'DisableSlot sent' }).waitFor();
    const cmd = await kiosk.waitForCommand((c) => c.action === 'DisableSlot');
    t.equal(cmd.payload.slot, 2, 'the kiosk received DisableSlot for slot 2');
    await page.getByRole('button', { name: 'Trigger inventory' }).click();
    const trig = await kiosk.waitForCommand((c) => c.action === 'TriggerMessage');
    t.equal(trig.payload.message, 'Inventory');
    // The kiosk reports the slot disabled; the page shows it after a refresh.
    await kiosk.inventory([
      readySlot(1, 'disk-a'),
      { slot: 2, state: 'disabled', writeProtect: false },
      readySlot(3, 'disk-c'),
    ]);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('button', { name: 'Enable slot 2' }).waitFor();
    await screenshot(page, 'ops-kiosk-detail');

    await page.getByRole('link', { name: 'Enrol', exact: true }).click();
    await page.getByLabel('Kiosk id').fill('kiosk-new');
    await page.getByRole('button', { name: 'Create kiosk and show the token' }).click();
    const token = (await page.getByTestId('enrolment-token').textContent()) ?? '';
    t.ok(token.length >= 20, 'the enrolment token is shown once');
    const enrolled = await fetch(`${hub.baseUrl}/api/kiosks/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kioskId: 'kiosk-new', token }),
    });
    t.equal(enrolled.status, 200, 'the shown token enrols the kiosk');
    t.same(problems, [], 'no page errors or CSP violations');
  },
);
