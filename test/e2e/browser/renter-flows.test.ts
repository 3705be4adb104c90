import type { Page } from 'playwright-core';
import t from 'tap';
import type { AccountMessage } from '../../../cloud-lite/rental/accounts/account-mail.js';
import { startWebHub } from '../../cloud-lite/web/web-hub.js';
import {
  checkLargeText,
  checkPage,
  chromiumMissing,
  openBrowser,
  watchConsole,
} from './fixtures/browser.js';
import { CONTENT, readySlot, seedCatalog, seedKiosk } from './fixtures/fleet.js';

// One browser flow of a renter's whole visit: 169 s of it seen beside the suite at load 30-40,
// near the suite's 180 s per file.
t.setTimeout(360_000);

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
      overrides: {
        rental: {
          scryptLog2N: 10,
          maxOpenRentals: 2,
          termsUrl: 'https://rent.example/terms',
          privacyUrl: 'https://rent.example/privacy',
        },
      } as never,
      deps: { rental: { mailer: { send: async (m) => void mail.push(m) } } },
    });
    await seedCatalog(hub);
    const kiosk = await seedKiosk(t, hub, 'kiosk-1', SITE, [
      readySlot(7, 'disk-7'),
      { slot: 2, state: 'loaded', diskId: 'disk-2', capacityBytes: 1e12, writeProtect: false },
    ]);
    const { page } = await openBrowser(t);
    const problems = watchConsole(page);
    /** The kiosk reports the reservation of PrepareDisk `cmd` ready in slot 2; the page says so. */
    const preparedInSlot2 = async (cmd: Awaited<ReturnType<typeof kiosk.waitForCommand>>) => {
      await kiosk.sendEvent('PrepareCompleted', {
        commandId: cmd.payload.commandId as string,
        reservationId: cmd.payload.reservationId as string,
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
    };
    // Card data goes only to the payment provider's form: every request the page sends is kept.
    const requests: { url: string; body: string }[] = [];
    page.on('request', (r) => requests.push({ url: r.url(), body: r.postData() ?? '' }));

    // The QR code opens /k/<kioskId>: it sells before it asks (no login yet).
    await page.goto(`${hub.baseUrl}/k/kiosk-1`);
    await page.getByRole('heading', { name: 'Central Station', level: 1 }).waitFor();
    const landing = (await page.locator('main').textContent()) ?? '';
    t.match(landing, /Platform 1/, 'the address');
    t.match(landing, /online · open now/, 'open, in words (not by colour alone)');
    t.match(landing, /1 TB · Maps of Europe/, 'the content title');
    t.match(landing, /€3\.00 per day/, 'the price per day');
    t.match(landing, /Ready now1/, 'the stock');
    t.match(landing, /Deposit: €50\.00/, 'the deposit amount');
    t.match(landing, /Late return: €3\.00 per started day/, 'the late fee');
    t.match(landing, /After 10 days late the disk counts as lost: €50\.00/, 'the lost-disk charge');
    t.equal(await page.title(), 'Central Station · Disk rental');
    await checkPage(t, page, 'renter-kiosk-landing');
    // Checkout asks for the account, naming the deposit.
    await page.getByRole('button', { name: /Rent 1 TB/ }).click();
    await page.getByText('a deposit of €50.00 is paid once').waitFor();
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByRole('button', { name: 'Create account' }).click();
    // Every field's error at once, tied to its field; focus on the first.
    const loginField = page.getByLabel('E-mail or phone number');
    t.equal(await loginField.getAttribute('aria-invalid'), 'true');
    t.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
    t.equal(
      await page.evaluate('document.activeElement.getAttribute("aria-invalid")'),
      'true',
      'focus on the first invalid field',
    );
    await checkPage(t, page, 'renter-checkout-login-errors');
    await loginField.fill('rita@example.org');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    const pwError = page.locator('.field-error', { hasText: 'at least 10 characters' });
    await pwError.waitFor();
    const pwDescribedBy =
      (await page.getByLabel('Password').getAttribute('aria-describedby')) ?? '';
    t.ok(
      pwDescribedBy.split(' ').includes((await pwError.getAttribute('id')) ?? '-'),
      "the password error is the field's description",
    );
    await page.getByLabel('Password').fill('password12');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('alert').filter({ hasText: 'most common' }).waitFor();
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('We sent a link to rita@example.org').waitFor();
    // The registration link from the message (the hub's mailer) finishes it and comes back here.
    const sent = mail.at(-1);
    t.equal(sent?.kind, 'confirm-registration');
    await page.goto(sent?.kind === 'confirm-registration' ? sent.link : hub.baseUrl);
    await page.getByRole('heading', { name: 'Central Station' }).waitFor();
    t.equal(new URL(page.url()).pathname, '/k/kiosk-1');
    t.equal(new URL(page.url()).hash, '', 'the link token left the address bar');
    await page.getByText('Pay a deposit first').waitFor();
    await page.getByText('A deposit of €50.00 is needed before your first rental.').waitFor();
    await checkPage(t, page, 'renter-kiosk-no-deposit');

    // Deposit on "My rentals".
    await page.getByRole('link', { name: 'Pay the €50.00 deposit' }).click();
    await page.getByRole('heading', { name: 'Deposit' }).waitFor();
    await fillCard(page, '4242 4242 4242 4242');
    await page.getByLabel(/Save this card/).check(); // extensions are charged to it
    await page.getByRole('button', { name: 'Pay deposit' }).click();
    await page.getByText('Deposit paid: €50.00 held.').waitFor();
    await checkPage(t, page, 'renter-me-deposit');

    // Back at the kiosk: the disk list, a declined card, then an approved one.
    await page.goto(`${hub.baseUrl}/k/kiosk-1`);
    const type = page.locator('li[data-disk-type="tb1-maps"]');
    await type.waitFor();
    const text = (await type.textContent()) ?? '';
    t.match(text, /1 TB · Maps of Europe/);
    t.match(text, /€3\.00 per day/);
    await checkPage(t, page, 'renter-kiosk-disks');
    await type.getByRole('button', { name: /Rent 1 TB/ }).click();
    t.match((await page.locator('.total').textContent()) ?? '', /€6\.00/, 'two default days');
    // Beyond the type's limit the total is not shown as if it could be bought: the field says why.
    await page.getByLabel(/Rental days/).fill('30');
    await page.getByText('Choose 1 to 14 days.').waitFor();
    t.notMatch(
      (await page.locator('.total').textContent()) ?? '',
      /Total for/,
      'no total for 30 days',
    );
    t.equal(await page.getByLabel(/Rental days/).getAttribute('aria-invalid'), 'true');
    await checkPage(t, page, 'renter-rent-form-limit');
    await page.getByLabel(/Rental days/).fill('2');
    // Where money is taken, the operator's terms and privacy pages.
    t.equal(
      await page.getByRole('link', { name: 'terms of rental' }).getAttribute('href'),
      'https://rent.example/terms',
    );
    t.equal(
      await page.getByRole('link', { name: 'privacy notice' }).getAttribute('href'),
      'https://rent.example/privacy',
    );
    await fillCard(page, '4000 0000 0000 0002');
    await page.getByRole('button', { name: 'Pay and take the disk' }).click();
    const declined = page
      .getByRole('alert')
      .filter({ hasText: 'Your card was declined. Use another card.' });
    await declined.waitFor();
    t.equal(await declined.getAttribute('data-code'), 'CARD_DECLINED');
    await checkPage(t, page, 'renter-card-declined');
    await fillCard(page, '4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Pay and take the disk' }).click();

    // The kiosk gets Dispense (3rd instruction); the page follows live, with the pickup time.
    const first = await kiosk.waitForCommand((c) => c.action === 'Dispense', 10_000);
    const firstSlot = first.payload.slot as number;
    await page
      .locator('#order-status')
      .getByText(`Take your disk from slot ${firstSlot}`)
      .waitFor();
    await page
      .getByTestId('pickup-countdown')
      .getByText(/left to take it/)
      .waitFor();
    await checkPage(t, page, 'renter-take-disk');
    // Not taken in time: a sentence (not the code) and a way to try again.
    await kiosk.sendEvent('DispenseCompleted', {
      commandId: first.payload.commandId,
      orderId: first.payload.orderId as string,
      slot: firstSlot,
      diskId: 'disk-7',
      outcome: 'not_taken',
    });
    await page
      .locator('#order-status')
      .getByText(/was not taken within the pickup time/)
      .waitFor();
    t.notMatch((await page.locator('main').textContent()) ?? '', /DISPENSE_NOT_TAKEN/);
    t.equal(await page.getByTestId('order-amount').textContent(), 'Nothing charged');
    await checkPage(t, page, 'renter-order-not-taken');
    // The kiosk took the disk back in: its inventory says slot 7 is ready again.
    await kiosk.inventory([
      readySlot(7, 'disk-7'),
      { slot: 2, state: 'loaded', diskId: 'disk-2', capacityBytes: 1e12, writeProtect: false },
    ]);
    await page.getByRole('link', { name: 'Try again at this kiosk' }).click();
    await page
      .locator('li[data-disk-type="tb1-maps"]')
      .getByRole('button', { name: /Rent 1 TB/ })
      .click();
    await fillCard(page, '4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Pay and take the disk' }).click();
    const dispense = await kiosk.waitForCommand(
      (c) => c.action === 'Dispense' && c.payload.orderId !== first.payload.orderId,
      10_000,
    );
    const slot = dispense.payload.slot as number;
    await page.locator('#order-status').getByText(`Take your disk from slot ${slot}`).waitFor();
    await kiosk.sendEvent('DispenseCompleted', {
      commandId: dispense.payload.commandId,
      orderId: dispense.payload.orderId as string,
      slot,
      diskId: 'disk-7',
      outcome: 'taken',
    });
    await page
      .locator('#order-status')
      .getByText(`Done: you took your disk from slot ${slot}`)
      .waitFor();
    // Done: due date, return anywhere, late fee, lost-disk charge, a receipt.
    await page.getByTestId('due-at').waitFor();
    const done = (await page.locator('main').textContent()) ?? '';
    t.match(done, /Return it to any kiosk/);
    t.match(done, /€3\.00 per started day/);
    t.match(done, /counts as lost: €50\.00 from your deposit/);
    t.match(done, /Receipt/);
    t.equal(await page.getByTestId('order-amount').textContent(), '€6.00');
    await checkPage(t, page, 'renter-order-done');

    // Extend it: the price first (a quote, nothing charged), then confirm that price.
    await page.goto(`${hub.baseUrl}/me`);
    await page.getByRole('heading', { name: 'Disk you have now' }).waitFor();
    const rentalItem = page.locator('li.rental').first();
    t.match((await rentalItem.locator('h3').textContent()) ?? '', /1 TB · Maps of Europe/);
    t.notMatch(
      (await rentalItem.textContent()) ?? '',
      /disk-[78]/,
      'named by content, not disk id',
    );
    t.match((await rentalItem.getByTestId('due').textContent()) ?? '', /Due back in 2 days/);
    // Orders, the failed one included, with "nothing charged".
    const failedOrder = page.locator(`li[data-order="${first.payload.orderId}"]`);
    t.match((await failedOrder.textContent()) ?? '', /failed.*nothing charged/);
    await checkPage(t, page, 'renter-me');
    // E-mail settings: which e-mails besides receipts, and their language; kept by the hub.
    const mailBox = page.locator('section[aria-labelledby="mail-title"]');
    await mailBox.getByText('You get all of them.').waitFor();
    await mailBox.getByLabel('A reminder the day before a rental is due').uncheck();
    await mailBox.getByLabel('Language of the e-mails').selectOption('zh-CN');
    await mailBox.getByRole('button', { name: 'Save e-mail settings' }).click();
    await mailBox.getByText('E-mail settings saved.').waitFor();
    t.match(
      (await mailBox.getByTestId('mail-state').textContent()) ?? '',
      /Unsubscribed from: A reminder the day before a rental is due/,
    );
    t.same(
      await page.evaluate(
        "fetch('/api/me/notifications').then((r) => r.json()).then((s) => [s.language, s.kinds.due_tomorrow, s.kinds.overdue])",
      ),
      ['zh-CN', false, true],
      'saved for the account',
    );
    await rentalItem.getByLabel('Extend by days').fill('3');
    await rentalItem.getByRole('button', { name: 'Get a price' }).click();
    const quote = rentalItem.getByTestId('extension-quote');
    await quote.waitFor();
    t.match(
      (await quote.textContent()) ?? '',
      /3 more days: €9\.00, charged to your card ending 4242/,
    );
    t.equal(
      await quote.getByRole('link', { name: 'terms of rental' }).getAttribute('href'),
      'https://rent.example/terms',
      'the terms where the extension is charged',
    );
    t.equal(
      await page.evaluate('document.activeElement.textContent'),
      'Confirm and pay',
      'focus moves to the confirmation',
    );
    await checkPage(t, page, 'renter-me-extend-quote');
    await rentalItem.getByRole('button', { name: 'Confirm and pay' }).click();
    await rentalItem.getByText(/Extended: now due/).waitFor();
    await rentalItem.getByLabel('Extend by days').fill('365');
    await rentalItem.getByRole('button', { name: 'Get a price' }).click();
    await rentalItem
      .getByRole('alert')
      .filter({ hasText: /at most \d+ days in all/ })
      .waitFor();

    // Find the kiosk near me (typed position), reserve, watch the preparation.
    await page.getByRole('link', { name: 'Kiosks' }).click();
    await page.getByLabel('Position (latitude, longitude)').fill('52.52, 13.40');
    await page.getByRole('button', { name: 'Search here' }).click();
    const listed = page.locator('li[data-kiosk="kiosk-1"]');
    await listed.getByText(/km/).waitFor();
    t.match((await listed.textContent()) ?? '', /2\.1 km/, 'distance from the typed position');
    await page.locator('.kiosk-pin[data-kiosk="kiosk-1"]').waitFor();
    await checkPage(t, page, 'renter-nearby');
    await listed.getByRole('link', { name: 'Reserve at Central Station' }).click();
    // Before paying: where (with directions), what, the hold window and the no-show fee.
    const directions = page.getByRole('link', { name: 'Directions to Central Station' });
    t.match(
      await directions.getAttribute('href'),
      /^https:\/\/www\.openstreetmap\.org\/directions\?route=%3B52\.525100%2C13\.369400$/,
      'a directions link from the coordinates',
    );
    t.match(
      await page.getByRole('link', { name: 'Open in maps app' }).getAttribute('href'),
      /^geo:52\.525100,13\.369400\?q=/,
    );
    await page.getByRole('button', { name: /Reserve 1 TB/ }).click();
    const before = (await page.getByTestId('reserve-terms').textContent()) ?? '';
    t.match(before, /Reserved at Central Station/);
    t.match(before, /Platform 1/);
    t.match(before, /Content: 1 TB · Maps of Europe/);
    t.match(
      before,
      /holds it for 24 hr\. Not picked up in that time: €3\.00 is charged/,
      'hold window and no-show fee before paying',
    );
    await checkPage(t, page, 'renter-reserve-form');
    await checkLargeText(t, page, 'renter-reserve-form');
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
    // One bar for the whole preparation: copying half done is 55% of it (not 50% of a step).
    await page.locator('#reservation-status').getByText('Preparing your disk: 55%').waitFor();
    t.equal(await page.locator('progress#prep').getAttribute('value'), '55');
    t.equal(
      await page.locator('label[for="prep"]').textContent(),
      'Step 3 of 6: copying the content',
    );
    const resCard = (await page.getByTestId('res-kiosk').textContent()) ?? '';
    t.match(resCard, /Central Station/, 'the kiosk by name');
    t.match(resCard, /Platform 1/, 'its address');
    t.match(await page.getByTestId('res-content').textContent(), /1 TB · Maps of Europe/);
    await page.getByRole('link', { name: 'Directions to Central Station' }).waitFor();
    await checkPage(t, page, 'renter-reservation-progress');
    await checkLargeText(t, page, 'renter-reservation-progress');
    // The next step starts at 0% of its own bytes: the bar goes on from 80%, not from 0.
    await kiosk.sendEvent('PrepareProgress', {
      commandId: prepare.payload.commandId,
      reservationId,
      slot: 2,
      step: 'verifying',
      bytesDone: 0,
      bytesTotal: 40e9,
      filesDone: 0,
      filesTotal: 10,
      rateBps: 100e6,
      etaSeconds: 100,
    });
    await page.locator('#reservation-status').getByText('Preparing your disk: 80%').waitFor();
    t.equal(
      await page.locator('label[for="prep"]').textContent(),
      'Step 5 of 6: checking every file',
    );
    await preparedInSlot2(prepare);
    await checkPage(t, page, 'renter-reservation-ready');
    // Cancel asks first, naming the money, then says what happened to it.
    await page.getByRole('button', { name: 'Cancel reservation' }).click();
    const confirm = page.getByTestId('cancel-confirm');
    t.match(
      (await confirm.textContent()) ?? '',
      /The €6\.00 authorised on your card is released in full: nothing is charged\./,
    );
    t.equal(await page.evaluate('document.activeElement.dataset.testid'), 'cancel-confirm');
    await checkPage(t, page, 'renter-reservation-cancel-confirm');
    await page.getByRole('button', { name: 'Keep my reservation' }).click();
    await page.getByRole('button', { name: 'Cancel reservation' }).click();
    await page.getByRole('button', { name: 'Yes, cancel it' }).click();
    await page
      .locator('#reservation-status')
      .getByText('Reservation cancelled. The €6.00 authorised on your card is released')
      .waitFor();
    await page.getByRole('link', { name: 'Reserve again at this kiosk' }).waitFor();
    // 中文: the switch changes every sentence, sets the page's language, and is kept.
    await page.goto(`${hub.baseUrl}/k/kiosk-1`);
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '此处可租的硬盘' }).waitFor();
    t.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    await page.reload();
    await page.getByRole('heading', { name: '租用前须知' }).waitFor();
    const zh = (await page.locator('main').textContent()) ?? '';
    t.match(zh, /押金：€50\.00/, 'the deposit, in Chinese');
    t.match(zh, /每天 €3\.00/, 'the price per day, in Chinese');
    t.equal(await page.getByRole('button', { name: '中文' }).getAttribute('aria-pressed'), 'true');
    await checkPage(t, page, 'renter-kiosk-zh');
    await page.getByRole('link', { name: '我的租用' }).click();
    await page.getByRole('heading', { name: '您正在租用的硬盘' }).waitFor();
    t.match((await page.getByTestId('due').textContent()) ?? '', /到期/);
    const mailZh = page.locator('section[aria-labelledby="mail-title"]');
    t.match(
      (await mailZh.getByTestId('mail-state').textContent()) ?? '',
      /已退订：租用到期前一天的提醒/,
    );
    t.equal(await mailZh.getByLabel('邮件语言').inputValue(), 'zh-CN', 'kept after a reload');
    await checkPage(t, page, 'renter-me-zh');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Disk you have now' }).waitFor();

    // Pickup: the cancelled reservation's disk is ready stock again (the kiosk says so); reserved
    // once more and prepared, the kiosk's page offers it first and the kiosk hands it out.
    await kiosk.inventory([
      { slot: 7, state: 'empty', writeProtect: false },
      readySlot(2, 'disk-2'),
    ]);
    await page.goto(`${hub.baseUrl}/reserve/kiosk-1`);
    await page.getByRole('button', { name: /Reserve 1 TB/ }).click();
    await fillCard(page, '4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Pay and reserve' }).click();
    const prepare2 = await kiosk.waitForCommand(
      (c) => c.action === 'PrepareDisk' && c.payload.reservationId !== reservationId,
      10_000,
    );
    await preparedInSlot2(prepare2);
    await page.goto(`${hub.baseUrl}/k/kiosk-1`);
    const pickUp = page.getByRole('button', { name: 'Pick up my reserved disk' });
    await pickUp.waitFor();
    await checkPage(t, page, 'renter-kiosk-pickup');
    await pickUp.click();
    const handOut = await kiosk.waitForCommand(
      (c) => c.action === 'Dispense' && c.payload.slot === 2,
      10_000,
    );
    await page.locator('#order-status').getByText('Take your disk from slot 2').waitFor();
    await kiosk.sendEvent('DispenseCompleted', {
      commandId: handOut.payload.commandId,
      orderId: handOut.payload.orderId as string,
      slot: 2,
      diskId: 'disk-2',
      outcome: 'taken',
    });
    await page.locator('#order-status').getByText('Done: you took your disk from slot 2').waitFor();
    await page.getByTestId('due-at').waitFor();

    // The session is an HttpOnly cookie: nothing the page's scripts can read holds it.
    const seen = (await page.evaluate(
      '({ cookie: document.cookie, storage: JSON.stringify({ ...localStorage, ...sessionStorage }) })',
    )) as { cookie: string; storage: string };
    const [session] = (await page.context().cookies()).filter((c) => c.name === 'dk_session');
    t.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    t.notMatch(seen.cookie, /dk_session/);
    t.notOk(seen.storage.includes(session?.value ?? '-'), 'no session token in web storage');
    t.same(problems, [], 'no page errors or CSP violations');

    // No card number in any request body to the hub's API; they went to the sandbox's card form.
    const numbers = ['4242424242424242', '4000000000000002'];
    const carries = (body: string) => numbers.some((n) => body.replace(/[\s-]/g, '').includes(n));
    const api = requests.filter((r) => r.url.startsWith(`${hub.baseUrl}/api/`));
    t.ok(
      ['/api/me/deposit', '/api/orders', '/api/reservations'].every((p) =>
        api.some((r) => r.url === hub.baseUrl + p && r.body.includes('"paymentMethod":"pm_')),
      ),
      'the deposit, the orders and the reservation were paid with payment-method ids',
    );
    t.same(
      api.filter((r) => carries(r.body)).map((r) => r.url),
      [],
      'no request to the API carries a card number',
    );
    t.ok(
      requests.some((r) => r.url.includes('/sandbox-provider/') && carries(r.body)),
      "the card went to the provider's form",
    );
  },
);
