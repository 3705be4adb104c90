// The renter's map, navigation and the pages around login (issue 18 items 5 and 6): one hub,
// one browser for the whole file.
import t from 'tap';
import { UnsubscribeLinks } from '../../../cloud-lite/notifications/unsubscribe.js';
import type { AccountMessage } from '../../../cloud-lite/rental/accounts/account-mail.js';
import { startWebHub } from '../../cloud-lite/web/web-hub.js';
import {
  checkLargeText,
  checkPage,
  chromiumMissing,
  focusRing,
  openBrowser,
  watchConsole,
} from './fixtures/browser.js';
import { admin, readySlot, seedCatalog, seedKiosk } from './fixtures/fleet.js';

// A browser over the renter pages: 123 s seen beside the suite at load 30-40.
t.setTimeout(360_000);

const SITE = { name: 'Central Station', address: 'Platform 1', lat: 52.5251, lng: 13.3694 };
const FAR = {
  name: 'Alexanderplatz shopping centre, lower ground floor, exit B next to the pharmacy',
  address: 'Alexanderplatz 9',
  lat: 52.5219,
  lng: 13.4132,
};

t.test(
  'renter: 404, map, Back and reload keep the state, login returns to the deep link',
  async (t) => {
    if (chromiumMissing(t)) return;
    const mail: AccountMessage[] = [];
    const hub = await startWebHub(t, {
      overrides: { rental: { scryptLog2N: 10 } } as never,
      deps: { rental: { mailer: { send: async (m) => void mail.push(m) } } },
    });
    await seedCatalog(hub);
    await seedKiosk(t, hub, 'kiosk-1', SITE, [readySlot(7, 'disk-7'), readySlot(8, 'disk-8')]);
    // A second kiosk that never connected: offline, with a name too long for one line.
    await admin(hub, 'POST', '/api/operator/kiosks', { id: 'kiosk-2', name: FAR.name });
    await admin(hub, 'POST', '/api/operator/kiosk-sites', { kioskId: 'kiosk-2', ...FAR });
    const { page } = await openBrowser(t);
    const problems = watchConsole(page);
    const path = () => {
      const u = new URL(page.url());
      return decodeURIComponent(u.pathname + u.search);
    };

    // An unknown page: an HTML page saying so, with a way on (both languages).
    const res = await page.goto(`${hub.baseUrl}/no/such/page`);
    t.equal(res?.status(), 404, 'status 404');
    await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
    t.match((await page.locator('main').textContent()) ?? '', /There is no page at this address/);
    t.equal(await page.title(), 'Page not found · Disk rental');
    await checkPage(t, page, 'renter-404');
    await checkLargeText(t, page, 'renter-404');
    // Focus rings: 3 px, at least 3:1 against what they are drawn on (the page, the dark header).
    for (const target of [
      page.getByRole('link', { name: 'Find a kiosk' }),
      page.locator('header a').first(),
    ]) {
      const ring = await focusRing(page, target);
      t.ok(
        ring.style !== 'none' && ring.width >= 3 && ring.ratio >= 3,
        `focus ring of ${ring.what}: ${ring.width}px ${ring.style}, ${ring.ratio}:1`,
      );
    }
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '找不到此页面' }).waitFor();
    await page.getByRole('link', { name: '查找租赁机' }).waitFor();
    await checkPage(t, page, 'renter-404-zh');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('link', { name: 'Find a kiosk' }).click();

    // The map: one position field that takes "52.52, 13.40", kept in the address.
    await page.getByRole('heading', { name: 'Kiosks near you' }).waitFor();
    const position = page.getByLabel('Position (latitude, longitude)');
    t.match(
      (await page.locator(`#${await position.getAttribute('aria-describedby')}`).textContent()) ??
        '',
      /For example 52\.52, 13\.40: latitude first \(north of the equator is positive\), then longitude/,
      'the help text, tied to the field',
    );
    await position.fill('north of here');
    await page.getByRole('button', { name: 'Search here' }).click();
    await page.getByText(/Enter two numbers separated by a comma/).waitFor();
    t.equal(await position.getAttribute('aria-invalid'), 'true');
    await position.fill('52.52, 13.40');
    await page.getByRole('button', { name: 'Search here' }).click();
    await page.locator('li[data-kiosk="kiosk-1"]').getByText('2.1 km').waitFor();
    t.equal(path(), '/kiosks?near=52.52,13.4', 'the position is in the address');
    // Tiles from the hub's own tile folder (map.tileDir), pins with the stock in words.
    const map = page.getByTestId('kiosk-map');
    await map.locator('img.leaflet-tile-loaded').first().waitFor();
    const tileSrc =
      (await map.locator('img.leaflet-tile-loaded').first().getAttribute('src')) ?? '';
    t.match(tileSrc, /^\/tiles\/\d+\/\d+\/\d+\.png$/, 'local tiles (map.tileDir)');
    const pin1 = map.locator('.kiosk-pin[data-kiosk="kiosk-1"]');
    const pin2 = map.locator('.kiosk-pin[data-kiosk="kiosk-2"]');
    t.match(await pin1.textContent(), /Central Station\s*2 ready/, 'stock on the pin, in words');
    t.match(await pin2.textContent(), /offline/, 'offline on the pin, in words');
    t.match(await pin2.getAttribute('aria-label'), /offline, 0 ready now/);
    t.equal(await pin1.getAttribute('role'), 'button', 'a pin is a button');
    // No label is cut off by the map's edge.
    const box = await map.boundingBox();
    for (const label of await map.locator('.pin-label').all()) {
      const b = await label.boundingBox();
      t.ok(
        box &&
          b &&
          b.x >= box.x &&
          b.y >= box.y &&
          b.x + b.width <= box.x + box.width + 0.5 &&
          b.y + b.height <= box.y + box.height + 0.5,
        `label inside the map: ${(await label.textContent())?.slice(0, 30)}`,
      );
    }
    await checkPage(t, page, 'renter-map');
    await checkLargeText(t, page, 'renter-map');
    // A pin opens (keyboard too) a card: stock, rent, reserve, directions.
    await pin1.focus();
    await page.keyboard.press('Enter');
    const popup = page.locator('.kiosk-popup');
    await popup.waitFor();
    t.match(await popup.textContent(), /online.*2 ready now/);
    t.match(
      await popup.getByRole('link', { name: 'Directions to Central Station' }).getAttribute('href'),
      /openstreetmap\.org\/directions\?route=%3B52\.525100%2C13\.369400/,
    );
    await checkPage(t, page, 'renter-map-pin');
    // In Chinese: the pins' words too.
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '附近的租赁机' }).waitFor();
    await map.locator('.kiosk-pin[data-kiosk="kiosk-2"]', { hasText: '离线' }).waitFor();
    t.match(await pin1.textContent(), /2 块可租/);
    await checkPage(t, page, 'renter-map-zh');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Kiosks near you' }).waitFor();
    // The map is made again for the language: its English pins, not the Chinese map's going.
    await map.locator('.kiosk-pin[data-kiosk="kiosk-1"]', { hasText: '2 ready' }).waitFor();
    await pin1.focus();
    await page.keyboard.press('Enter');
    await popup.waitFor();
    await popup.getByRole('link', { name: 'Rent at Central Station' }).click();
    await page.getByRole('heading', { name: 'Central Station', level: 1 }).waitFor();
    // Back: the same search, typed position and all.
    await page.goBack();
    await page.locator('li[data-kiosk="kiosk-1"]').getByText('2.1 km').waitFor();
    t.equal(await position.inputValue(), '52.52,13.4', 'Back keeps the position');
    await page.reload();
    await page.locator('li[data-kiosk="kiosk-1"]').getByText('2.1 km').waitFor();
    t.equal(await position.inputValue(), '52.52,13.4', 'a reload keeps it too');

    // /register/confirm without its token says so and offers a way on.
    await page.goto(`${hub.baseUrl}/register/confirm`);
    await page.getByText('This link is incomplete').waitFor();
    await page.getByRole('link', { name: 'Log in or register again' }).waitFor();
    await checkPage(t, page, 'renter-register-confirm-incomplete');

    // Choosing a disk puts it in the address; registering there comes back to that form.
    await page.goto(`${hub.baseUrl}/k/kiosk-1`);
    await page.getByRole('button', { name: /Rent 1 TB/ }).click();
    t.equal(path(), '/k/kiosk-1?type=tb1-maps');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('E-mail or phone number').fill('nina@example.org');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('We sent a link to nina@example.org').waitFor();
    const sent = mail.at(-1);
    // The mailed link is absolute (the hub's publicUrl, else its own address).
    const link = sent?.kind === 'confirm-registration' ? sent.link : '';
    t.match(link, new RegExp(`^${hub.baseUrl}/register/confirm#`), 'an absolute link to this hub');
    await page.goto(link);
    await page.getByText('Pay a deposit first').waitFor();
    t.equal(path(), '/k/kiosk-1?type=tb1-maps', 'the link returns to the chosen disk');
    // Deposit (its form links the terms where configured; none here), back to the form.
    await page.getByRole('link', { name: /Pay the .* deposit/ }).click();
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Expiry (MM/YY)').fill('12/39');
    await page.getByLabel('CVC').fill('123');
    await page.getByRole('button', { name: 'Pay deposit' }).click();
    await page.getByText(/Deposit paid/).waitFor();
    await page.goto(`${hub.baseUrl}/k/kiosk-1`);
    await page.getByRole('button', { name: /Rent 1 TB/ }).click();
    const days = page.getByLabel(/Rental days/);
    await days.fill('5');
    t.match(await page.locator('.total').textContent(), /€15\.00/);
    t.equal(path(), '/k/kiosk-1?type=tb1-maps&days=5', 'days in the address');
    await page.reload();
    t.equal(await days.inputValue(), '5', 'a reload keeps the days');
    await page.goBack();
    await page.locator('li[data-disk-type="tb1-maps"]').waitFor();
    t.equal(await days.count(), 0, 'Back: the list of disks, no form');
    await page.goForward();
    t.equal(await days.inputValue(), '5', 'Forward: the form as it was');

    // Logged out, a deep link asks for the login and then shows that page, same address.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${hub.baseUrl}/reservations/res-unknown`);
    await page.getByText('Log in to see this page; you come back here afterwards.').waitFor();
    await checkPage(t, page, 'renter-login-gate');
    await page.getByLabel('E-mail or phone number').fill('nina@example.org');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your reservation', level: 1 }).waitFor();
    t.equal(path(), '/reservations/res-unknown');

    // /login?next=: after login, to `next`; in both languages.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.goto(`${hub.baseUrl}/login?next=${encodeURIComponent('/kiosks?near=52.52,13.4')}`);
    await page.getByRole('heading', { name: 'Welcome' }).waitFor();
    await checkPage(t, page, 'renter-login');
    await checkLargeText(t, page, 'renter-login');
    // A forgotten password is not a dead end: the hub's own page mails a link.
    const forgot = page.getByRole('link', { name: 'Forgot your password?' });
    t.equal(await forgot.getAttribute('href'), '/forgot-password', 'login links the reset page');
    await forgot.click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await page.getByRole('heading', { name: '忘记密码？' }).waitFor();
    t.equal(await page.title(), 'Password · 密码', 'the reset page has its own title');
    await checkPage(t, page, 'renter-forgot-password');
    // The mailed link's page (the code travels in the fragment) and an unsubscribe link's page.
    await page.goto(`${hub.baseUrl}/reset-password#t=a-code-from-the-mail`);
    await page.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await checkPage(t, page, 'renter-reset-password');
    const links = new UnsubscribeLinks(hub.server.signingKey.privateKey, () => hub.baseUrl);
    await page.goto(links.url('user-nina', 'due_tomorrow'));
    await page.getByRole('button', { name: 'Unsubscribe' }).waitFor();
    await checkPage(t, page, 'renter-unsubscribe');
    await page.goto(`${hub.baseUrl}/login?next=${encodeURIComponent('/kiosks?near=52.52,13.4')}`);
    await page.getByRole('heading', { name: 'Welcome' }).waitFor();
    await forgot.click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'Welcome' }).waitFor();
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { name: '欢迎' }).waitFor();
    await checkPage(t, page, 'renter-login-zh');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByLabel('E-mail or phone number').fill('nina@example.org');
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.locator('li[data-kiosk="kiosk-1"]').getByText('2.1 km').waitFor();
    t.equal(path(), '/kiosks?near=52.52,13.4', 'back where the login was asked for');

    // The deposit back (no disk out): "Refund deposit" on My rentals, the amount said after.
    await page.goto(`${hub.baseUrl}/me`);
    await page.getByTestId('deposit-held').filter({ hasText: '€50.00' }).waitFor();
    await page.getByRole('button', { name: 'Refund deposit' }).click();
    await page.getByText('Deposit refunded: €0.00 held now.').waitFor();
    t.equal(await page.getByTestId('deposit-held').textContent(), '€0.00');
    await checkPage(t, page, 'renter-me-deposit-refunded');
    t.same(problems, [], 'no page errors or CSP violations');
  },
);
