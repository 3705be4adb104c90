import type { Page } from 'playwright-core';
import t from 'tap';
import type { AccountMessage } from '../../../cloud-lite/rental/accounts/account-mail.js';
import { startWebHub } from '../../cloud-lite/web/web-hub.js';
import { chromiumMissing, openBrowser, screenshot, watchConsole } from './fixtures/browser.js';
import { CONTENT, readySlot, seedCatalog, seedKiosk } from './fixtures/fleet.js';

const SITE = { name: 'Central Station', address: 'Platform 1', lat: 52.5251, lng: 13.3694 };

async function fillCard(page: Page, number: string) {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('Expiry (MM/YY)').fill('12/39');
  await page.getByLabel('CVC').fill('123');
}

t.test(
  'renter: register at a kiosk, pay a deposit, a declined card, rent and take the disk, reserve and watch the preparation',
  async (t) => {
    if (chromiumMissing(t)) return;
    const mail: AccountMessage[] = [];
    // maxOpenRentals 2: the renter reserves while the disk rented first is still out.
    const hub = await startWebHub(t, {
      overrides: { rental: { scryptLog2N: 10, maxOpenRentals: 2 } } as never,
      deps: { rental: { mailer: { send: async (m) => void mail.push(m) } } },
    });
    await seedCatalog(hub);
    const kiosk = await seedKiosk(t, hub, 'kiosk-1', SITE, [
      readySlot(7, 'disk-7'),
      { slot: 2, state: 'loaded', diskId: 'disk-2', capacityBytes: 1e12, writeProtect: false },
    ]);
    const { page } = await openBrowser(t);
    const problems = watchConsole(page);

    // The QR code opens /k/<kioskId>; log in or register there.
    await page.goto(`${hub.baseUrl}/k/kiosk-1`);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('E-mail or phone number').fill('rita@example.org');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'at least 10 characters' }).waitFor();
    await page.getByLabel('Password').fill('password12');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'most common' }).waitFor();
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('We sent a link to rita@example.org').waitFor();
    // The registration link from the message (the hub's mailer) finishes it and comes back here.
    const sent = mail.at(-1);
    t.equal(sent?.kind, 'confirm-registration');
    await page.goto(hub.baseUrl + (sent?.kind === 'confirm-registration' ? sent.link : ''));
    await page.getByRole('heading', { name: 'Central Station' }).waitFor();
    t.equal(new URL(page.url()).pathname, '/k/kiosk-1');
    t.equal(new URL(page.url()).hash, '', 'the link token left the address bar');
    await page.getByText('Pay a deposit first').waitFor();
    await screenshot(page, 'renter-kiosk-no-deposit');

    // Deposit on "My rentals".
    await page.getByRole('link', { name: 'Go to my account' }).click();
    await page.getByRole('heading', { name: 'Deposit' }).waitFor();
    await fillCard(page, '4242 4242 4242 4242');
    await page.getByLabel(/Save this card/).check(); // extensions are charged to it
    await page.getByRole('button', { name: 'Pay deposit' }).click();
    await page.getByText('Deposit paid: €50.00 held.').waitFor();

    // Back at the kiosk: the disk list, a declined card, then an approved one.
    await page.goto(`${hub.baseUrl}/k/kiosk-1`);
    const type = page.locator('li[data-disk-type="tb1-maps"]');
    await type.waitFor();
    const text = (await type.textContent()) ?? '';
    t.match(text, /1 TB · Maps of Europe/);
    t.match(text, /€3\.00 per day/);
    await screenshot(page, 'renter-kiosk-disks');
    await type.getByRole('button', { name: /Rent 1 TB/ }).click();
    t.match((await page.locator('.total').textContent()) ?? '', /€6\.00/, 'two default days');
    await fillCard(page, '4000 0000 0000 0002');
    await page.getByRole('button', { name: 'Pay and take the disk' }).click();
    const declined = page
      .getByRole('alert')
      .filter({ hasText: 'Your card was declined. Use another card.' });
    await declined.waitFor();
    t.equal(await declined.getAttribute('data-code'), 'CARD_DECLINED');
    await screenshot(page, 'renter-card-declined');
    await fillCard(page, '4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Pay and take the disk' }).click();

    // The kiosk gets Dispense (3rd instruction); the page follows live.
    const dispense = await kiosk.waitForCommand((c) => c.action === 'Dispense', 10_000);
    t.equal(dispense.payload.slot, 7);
    await page.locator('#order-status').getByText('Take your disk from slot 7').waitFor();
    await screenshot(page, 'renter-take-disk');
    await kiosk.sendEvent('DispenseCompleted', {
      commandId: dispense.payload.commandId,
      orderId: dispense.payload.orderId as string,
      slot: 7,
      diskId: 'disk-7',
      outcome: 'taken',
    });
    await page.locator('#order-status').getByText('Done: you took your disk from slot 7').waitFor();

    // Extend it: the price first (a quote, nothing charged), then confirm that price.
    await page.goto(`${hub.baseUrl}/me`);
    const rentalItem = page.locator('li.rental').first();
    await rentalItem.getByLabel('Extend by days').fill('3');
    await rentalItem.getByRole('button', { name: 'Extend' }).click();
    const quote = rentalItem.getByTestId('extension-quote');
    await quote.waitFor();
    t.match(
      (await quote.textContent()) ?? '',
      /3 more days: €9\.00, charged to your card ending 4242/,
    );
    await rentalItem.getByRole('button', { name: 'Confirm and pay' }).click();
    await rentalItem.getByText(/Extended: now due/).waitFor();
    await rentalItem.getByLabel('Extend by days').fill('365');
    await rentalItem.getByRole('button', { name: 'Extend' }).click();
    await rentalItem
      .getByRole('alert')
      .filter({ hasText: /at most \d+ days in all/ })
      .waitFor();

    // Find the kiosk near me (typed position), reserve, watch the preparation.
    await page.getByRole('link', { name: 'Kiosks' }).click();
    await page.getByLabel('Latitude').fill('52.52');
    await page.getByLabel('Longitude').fill('13.40');
    await page.getByRole('button', { name: 'Search here' }).click();
    const listed = page.locator('li[data-kiosk="kiosk-1"]');
    await listed.getByText(/km/).waitFor();
    t.match((await listed.textContent()) ?? '', /2\.1 km/, 'distance from the typed position');
    await page.locator('svg[role="img"]').waitFor();
    await screenshot(page, 'renter-nearby');
    await listed.getByRole('link', { name: 'Reserve at Central Station' }).click();
    await page.getByRole('button', { name: /Reserve 1 TB/ }).click();
    await fillCard(page, '4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Pay and reserve' }).click();
    const prepare = await kiosk.waitForCommand((c) => c.action === 'PrepareDisk', 10_000);
    const reservationId = prepare.payload.reservationId as string;
    await page
      .locator('#reservation-status')
      .getByText(/preparing your disk/i)
      .waitFor();
    await kiosk.sendEvent('PrepareProgress', {
      commandId: prepare.payload.commandId,
      reservationId,
      slot: 2,
      step: 'copying',
      bytesDone: 20e9,
      bytesTotal: 40e9,
      filesDone: 5,
      filesTotal: 10,
      rateBps: 100e6,
      etaSeconds: 200,
    });
    await page.locator('#reservation-status').getByText('Preparing your disk: 50%').waitFor();
    t.equal(await page.locator('progress#prep').getAttribute('value'), '50');
    await screenshot(page, 'renter-reservation-progress');
    await kiosk.sendEvent('PrepareCompleted', {
      commandId: prepare.payload.commandId,
      reservationId,
      slot: 2,
      diskId: 'disk-2',
      contentId: CONTENT.id,
      contentVersion: CONTENT.version,
      holdUntil: new Date(Date.now() + 3600_000).toISOString(),
    });
    await page
      .locator('#reservation-status')
      .getByText(/Your disk is ready in slot 2/)
      .waitFor();
    await screenshot(page, 'renter-reservation-ready');
    // The session is an HttpOnly cookie: nothing the page's scripts can read holds it.
    const seen = (await page.evaluate(
      '({ cookie: document.cookie, storage: JSON.stringify({ ...localStorage, ...sessionStorage }) })',
    )) as { cookie: string; storage: string };
    const [session] = (await page.context().cookies()).filter((c) => c.name === 'dk_session');
    t.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    t.notMatch(seen.cookie, /dk_session/);
    t.notOk(seen.storage.includes(session?.value ?? '-'), 'no session token in web storage');
    t.same(problems, [], 'no page errors or CSP violations');
  },
);
