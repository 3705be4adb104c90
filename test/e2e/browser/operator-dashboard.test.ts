import t from 'tap';
import { startWebHub, WEB_ADMIN_TOKEN } from '../../cloud-lite/web/web-hub.js';
import { checkPage, chromiumMissing, openBrowser, watchConsole } from './fixtures/browser.js';
import { admin, readySlot, seedCatalog, seedKiosk } from './fixtures/fleet.js';

// A browser over the operator pages: 114-148 s seen beside the suite at load 30-40.
t.setTimeout(360_000);

t.test(
  'operator: log in with the admin token, see the fleet, disable a slot, enrol a kiosk',
  async (t) => {
    if (chromiumMissing(t)) return;
    // Alerts looked at often and a kiosk offline at once: the attention panel reacts in the test.
    const hub = await startWebHub(t, {
      overrides: { alerts: { sweepIntervalMs: 100, offlineAfterSeconds: 0.05 } } as never,
    });
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
    const { context, page } = await openBrowser(t, { width: 1280, height: 900 });
    const problems = watchConsole(page);

    await page.goto(`${hub.baseUrl}/ops`);
    await page.getByRole('heading', { name: 'Operator login' }).waitFor();
    await checkPage(t, page, 'ops-login');
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '运营人员登录' }).waitFor();
    await checkPage(t, page, 'ops-login-zh');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Operator login' }).waitFor();
    await page.getByLabel('Admin token').fill('not-the-token-not-the-token');
    await page.getByRole('button', { name: 'Use admin token' }).click();
    await page.getByRole('alert').filter({ hasText: 'Log in first' }).waitFor();
    await page.getByLabel('Admin token').fill(WEB_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use admin token' }).click();

    const row = page.locator('tr[data-kiosk="kiosk-ops"]');
    await row.waitFor();
    t.match((await row.textContent()) ?? '', /online/);
    t.match((await row.textContent()) ?? '', /1 empty, 2 ready/);
    // The map under the table (the renters' Leaflet map, tiles from the hub): a pin per placed
    // kiosk, its state by shape and in words, not by colour alone.
    const pin = page.locator('.kiosk-pin[data-kiosk="kiosk-ops"]');
    await pin.waitFor();
    t.match(await pin.textContent(), /Harbour\s*2 ready/, 'stock on the pin, in words');
    t.match(await pin.getAttribute('class'), /pin-ok/);
    t.equal(await pin.getAttribute('aria-label'), 'Harbour: online, 2 ready. Show details');
    t.equal(await pin.getAttribute('role'), 'button', 'a pin is a button');
    t.ok(
      await page.evaluate(
        `!!(document.querySelector('table.fleet').compareDocumentPosition(document.querySelector('[data-testid="kiosk-map"]')) & Node.DOCUMENT_POSITION_FOLLOWING)`,
      ),
      'the fleet table first, the map second',
    );
    await checkPage(t, page, 'ops-fleet');
    // The dashboard in Chinese too (the same switch and catalogue as the renter pages).
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '机群', level: 1 }).waitFor();
    await page.getByRole('heading', { name: /^告警/ }).waitFor();
    t.match((await row.textContent()) ?? '', /在线/);
    await pin.filter({ hasText: '2 块可租' }).waitFor();
    t.match(await pin.getAttribute('aria-label'), /^Harbour：在线/, "the pin's words in Chinese");
    await checkPage(t, page, 'ops-fleet-zh');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Fleet', level: 1 }).waitFor();

    t.match((await row.locator('th').textContent()) ?? '', /^Harbour/, 'kiosks by name, id below');
    await row.getByRole('link', { name: 'Harbour' }).click();
    await page.getByRole('heading', { name: 'Harbour', level: 1 }).waitFor();
    // Disabling asks why, refuses no reason, and sends the reason (stored and audited).
    await page.getByRole('button', { name: 'Disable slot 2' }).click();
    await page.getByRole('button', { name: 'Yes, disable slot 2' }).click();
    await page.getByText('Say why the slot is disabled.').waitFor();
    t.equal(
      await page.getByLabel('Why disable slot 2?').getAttribute('aria-invalid'),
      'true',
      'no reason: the field says so and nothing is sent',
    );
    await page.getByLabel('Why disable slot 2?').fill('door sticks');
    await page.getByRole('button', { name: 'Yes, disable slot 2' }).click();
    await page
      .locator('#ops-status')
      .filter({ hasText: 'Sent: Disable slot 2 (reason: door sticks)' })
      .waitFor();
    const cmd = await kiosk.waitForCommand((c) => c.action === 'DisableSlot');
    t.same([cmd.payload.slot, cmd.payload.reason], [2, 'door sticks'], 'the kiosk got the reason');
    const audited = (await admin(hub, 'GET', '/api/operator/audit')).audit.find(
      (a: { action: string }) => a.action === 'command.sent',
    );
    t.match(
      audited,
      {
        actor: 'admin-token',
        subject: 'kiosk-ops',
        details: { action: 'DisableSlot', payload: { reason: 'door sticks' } },
      },
      'audited with who and why',
    );
    // Commands read as sentences (test/cloud-lite/web/i18n.test.ts: both languages), not JSON.
    await page.getByText('All recent commands').click();
    const recent = page.locator('section[aria-labelledby="cmd-title"] details li');
    await recent.filter({ hasText: 'Disable slot 2 (reason: door sticks): done' }).waitFor();
    t.notMatch((await recent.first().textContent()) ?? '', /[{"]/, 'no JSON');
    await page.getByRole('button', { name: 'Trigger inventory' }).click();
    const trig = await kiosk.waitForCommand((c) => c.action === 'TriggerMessage');
    t.equal(trig.payload.message, 'Inventory');
    // The kiosk reports the slot disabled: the page shows it live (no Refresh).
    await kiosk.inventory([
      readySlot(1, 'disk-a'),
      { slot: 2, state: 'disabled', writeProtect: false },
      readySlot(3, 'disk-c'),
    ]);
    await page.getByRole('button', { name: 'Enable slot 2' }).waitFor();
    await checkPage(t, page, 'ops-kiosk-detail');
    // Its protocol features in words; an action its software lacks is disabled with the reason
    // (before the click, not a 409 after it), live when the kiosk boots older software.
    const features = page.getByTestId('kiosk-features');
    t.match((await features.textContent()) ?? '', /diagnostics uploads upload-diagnostics/);
    const askBundle = page.getByRole('button', { name: 'Ask for the diagnostics bundle' });
    t.notOk(await askBundle.isDisabled(), 'diagnostics: available');
    await kiosk.boot({ slotCount: 4, features: null });
    await page.locator('#diag-lacks').waitFor();
    t.ok(await askBundle.isDisabled(), 'diagnostics: disabled');
    t.match(
      (await page.locator('#diag-lacks').textContent()) ?? '',
      /does not list the protocol feature upload-diagnostics \(diagnostics uploads\)/,
    );
    t.equal(await askBundle.getAttribute('aria-describedby'), 'diag-lacks', 'the reason is told');
    const rc = page.locator('section[aria-labelledby="rc-kiosk"]');
    t.ok(await rc.getByRole('button', { name: 'Save' }).isDisabled(), 'remote settings: disabled');
    t.match((await rc.locator('#rc-lacks').textContent()) ?? '', /apply-config/);
    t.notMatch((await features.textContent()) ?? '', /diagnostics/, 'the baseline, listed');
    await page.getByRole('button', { name: '中文' }).click();
    await page.locator('#diag-lacks', { hasText: '未列出协议功能 upload-diagnostics' }).waitFor();
    await page.getByRole('button', { name: 'English' }).click();
    await kiosk.boot({ slotCount: 4 });
    await page.locator('#diag-lacks').waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Orders' }).click();
    await page.getByRole('heading', { name: 'Orders and reservations' }).waitFor();
    await checkPage(t, page, 'ops-orders');
    await page.getByLabel('Show orders').selectOption('failed');
    await page.getByText('No orders.').waitFor();
    t.match(page.url(), /\/ops\/orders\?state=failed$/, 'the filter is in the URL');
    // The catalogue: a disk type's price and size edited in human units (audited by the hub).
    await page.getByRole('link', { name: 'Catalogue', exact: true }).click();
    await page.getByRole('heading', { name: 'Catalogue and prices', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Edit tb1-maps' }).click();
    t.equal(await page.getByLabel('Capacity').inputValue(), '1 TB');
    await page.getByLabel('Capacity').fill('1 TX');
    await page.getByLabel('Price per day').fill('3.555');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Enter a size like 40 GB or 37.25 GiB.').waitFor();
    await page.getByText('Enter an amount like 3.50 (at most two decimals).').waitFor();
    await page.getByLabel('Capacity').fill('931.5 GiB');
    await page.getByLabel('Price per day').fill('3.50');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Disk type tb1-maps saved.').waitFor();
    const saved = (await admin(hub, 'GET', '/api/operator/disk-types')).diskTypes[0];
    t.match(saved, {
      id: 'tb1-maps',
      pricePerDayMinor: 350,
      capacityBytes: Math.round(931.5 * 2 ** 30),
    });
    await page.locator('tr[data-disk-type="tb1-maps"]', { hasText: '€3.50' }).waitFor();
    await checkPage(t, page, 'ops-content');
    // The rental terms: wrong amounts said at their fields, then what changes is shown with
    // "new rentals only" and confirmed; stored by the hub (the renters' terms change at once).
    const terms = page.locator('section[aria-labelledby="rs-title"]');
    t.equal(await terms.getByLabel('Deposit').inputValue(), '50.00', 'the seed from the config');
    await terms.getByLabel('Deposit').fill('0');
    await terms.getByLabel('Late fee per day').fill('2.555');
    await terms.getByRole('button', { name: 'Review the change' }).click();
    await terms.getByText('Enter an amount above zero like 50.00').waitFor();
    t.equal(await terms.getByLabel('Late fee per day').getAttribute('aria-invalid'), 'true');
    t.equal(
      await page.evaluate('document.activeElement.id'),
      'rs-depositMinor',
      'focus on the first wrong field',
    );
    await terms.getByLabel('Deposit').fill('80');
    await terms.getByLabel('Late fee per day').fill('4.50');
    await terms.getByRole('button', { name: 'Review the change' }).click();
    const confirm = terms.getByRole('region', { name: 'Change the rental terms?' });
    await confirm.waitFor();
    const asked = (await confirm.textContent()) ?? '';
    t.match(asked, /Deposit: €50\.00 → €80\.00/);
    t.match(asked, /Late fee per day: €[\d.]+ → €4\.50/);
    t.notMatch(asked, /Lost-disk charge:/, 'only what changes is listed');
    t.match(asked, /already paid keep the late fee and lost-disk charge they were shown/);
    t.equal(
      await page.evaluate('document.activeElement.textContent'),
      'Yes, save the new terms',
      'focus on the confirmation',
    );
    await checkPage(t, page, 'ops-rental-terms-confirm');
    await confirm.getByRole('button', { name: 'Yes, save the new terms' }).click();
    await terms.getByText('Rental terms saved.').waitFor();
    t.match((await admin(hub, 'GET', '/api/operator/rental-settings')).settings, {
      depositMinor: 8000,
      overdueFeePerDayMinor: 450,
      updatedBy: 'admin-token',
    });
    t.match(await admin(hub, 'GET', '/api/terms'), { depositMinor: 8000 }, 'what renters read');
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '租用条款', level: 2 }).waitFor();
    t.match((await terms.getByTestId('rs-source').textContent()) ?? '', /最后由 admin-token/);
    await page.getByRole('button', { name: 'English' }).click();

    await page.getByRole('link', { name: 'Enrol', exact: true }).click();
    await page.getByLabel('Kiosk id').fill('kiosk-new');
    await page.getByRole('button', { name: 'Create kiosk and show the token' }).click();
    const token = (await page.getByTestId('enrolment-token').textContent()) ?? '';
    t.ok(token.length >= 20, 'the enrolment token is shown once');
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('button', { name: 'Copy the token' }).click();
    await page.getByText('Token copied.').waitFor();
    t.equal(await page.evaluate('navigator.clipboard.readText()'), token, 'copied');
    // Its location: every missing field said at once, then saved (on the renters' map).
    await page.getByLabel('Name renters see').fill('');
    await page.getByRole('button', { name: 'Save the location' }).click();
    await page.getByText('Enter latitude and longitude separated by a comma').waitFor();
    t.equal(await page.getByLabel('Name renters see').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('Name renters see').fill('Station East');
    await page.getByLabel('Address').fill('Platz 2, Berlin');
    await page.getByLabel('Position (latitude, longitude)').fill('52.52, 13.40');
    await page.getByRole('button', { name: 'Save the location' }).click();
    await page.getByText('Location of Station East saved').waitFor();
    const offer = await admin(hub, 'GET', '/api/kiosks/kiosk-new/offer');
    t.match(offer, { kiosk: { name: 'Station East', address: 'Platz 2, Berlin' } });
    // The QR sticker of its landing page, as PNG and SVG downloads.
    t.equal(await page.getByTestId('landing-url').textContent(), `${hub.baseUrl}/k/kiosk-new`);
    t.match(
      await page.getByRole('link', { name: 'Download PNG' }).getAttribute('href'),
      /^data:image\/png;base64,iVBORw0KGgo/,
    );
    t.match(
      await page.getByRole('link', { name: 'Download SVG' }).getAttribute('download'),
      'kiosk-new-sticker.svg',
    );
    await checkPage(t, page, 'ops-enrol-token');
    // Print: the button calls the browser's print (stubbed here: no dialog), and the print
    // styles leave the sticker's image alone on the page, at 60 x 80 mm.
    await page.evaluate('window.__printed = 0; window.print = () => { window.__printed += 1; }');
    await page.getByRole('button', { name: 'Print the sticker' }).click();
    t.equal(await page.evaluate('window.__printed'), 1, 'Print called window.print once');
    await page.emulateMedia({ media: 'print' });
    t.ok(await page.locator('.sticker-image').isVisible(), 'printed: the sticker image');
    t.notOk(await page.getByTestId('landing-url').isVisible(), 'not its URL line');
    t.notOk(await page.getByRole('button', { name: 'Print the sticker' }).isVisible());
    t.notOk(await page.locator('header.top').isVisible(), 'nor the page header');
    t.equal(
      await page.evaluate(
        `Math.round(document.querySelector('.sticker-image').getBoundingClientRect().width / 96 * 25.4)`,
      ),
      60,
      '60 mm wide',
    );
    await page.emulateMedia({ media: 'screen' });
    const enrolled = await fetch(`${hub.baseUrl}/api/kiosks/enrol`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kioskId: 'kiosk-new', token }),
    });
    t.equal(enrolled.status, 200, 'the shown token enrols the kiosk');

    // The fleet is live: the kiosk's link dies and the table and the attention panel say so.
    await page.getByRole('link', { name: 'Fleet', exact: true }).click();
    await row.filter({ hasText: '1 disabled, 2 ready' }).filter({ hasText: 'online' }).waitFor();
    // A jam: the pin turns to "needs attention" (an amber diamond with "!"); its card says what.
    await kiosk.inventory([
      readySlot(1, 'disk-a'),
      {
        slot: 2,
        state: 'fault',
        writeProtect: false,
        fault: { code: 'EJAM', message: 'the disk is stuck' },
      },
      readySlot(3, 'disk-c'),
    ]);
    await pin.filter({ hasText: /needs? attention/ }).waitFor();
    t.match(await pin.getAttribute('class'), /pin-fault/);
    await pin.focus();
    await page.keyboard.press('Enter');
    const card = page.locator('.kiosk-popup');
    await card.getByText('Slot 2: the disk is stuck').waitFor();
    await card.getByRole('link', { name: 'Open Harbour' }).waitFor();
    await page.locator('tr[data-alert-kind="slot_fault"]', { hasText: 'Slot fault' }).waitFor();
    await checkPage(t, page, 'ops-fleet-map-card');
    // The kiosk's link dies: the table, the attention panel, the pin and its open card say so.
    await kiosk.terminate();
    await row.filter({ hasText: 'offline' }).waitFor();
    const offline = page.locator('tr[data-alert-kind="kiosk_offline"]', { hasText: 'Harbour' });
    await offline.waitFor();
    t.match(await offline.textContent(), /critical\s*Kiosk offline/, 'the kind in words');
    t.notMatch(
      await page.locator('table.alerts').textContent(),
      /kiosk_offline|slot_fault/,
      'no alert code shown',
    );
    await pin.filter({ hasText: 'offline' }).waitFor();
    t.match(await pin.getAttribute('class'), /pin-offline/);
    await card.getByText('Kiosk offline').waitFor();
    t.notOk(
      await page.getByRole('button', { name: 'Refresh' }).count(),
      'no Refresh button on the fleet',
    );
    t.same(problems, [], 'no page errors or CSP violations');
  },
);
