// The order page when the kiosk drops mid-dispense: said within seconds, with what happens to
// the money, and the renter's "I didn't get my disk" report reaching the operators' flags.
import t from 'tap';
import type { AccountMessage } from '../../../cloud-lite/rental/accounts/account-mail.js';
import { startWebHub } from '../../cloud-lite/web/web-hub.js';
import { checkPage, chromiumMissing, openBrowser, watchConsole } from './fixtures/browser.js';
import { admin, readySlot, seedCatalog, seedKiosk } from './fixtures/fleet.js';

t.test(
  "kiosk unreachable mid-dispense: the page says so, and 'I didn't get my disk'",
  async (t) => {
    if (chromiumMissing(t)) return;
    const mail: AccountMessage[] = [];
    const hub = await startWebHub(t, {
      overrides: { rental: { scryptLog2N: 10, kioskUnreachableAfterSeconds: 1 } } as never,
      deps: { rental: { mailer: { send: async (m) => void mail.push(m) } } },
    });
    await seedCatalog(hub);
    const kiosk = await seedKiosk(
      t,
      hub,
      'kiosk-1',
      { name: 'Central Station', address: 'Platform 1', lat: 52.5, lng: 13.4 },
      [readySlot(7, 'disk-7')],
    );
    // A renter with a deposit, through the API (the browser flow is renter-flows.test.ts).
    const api = async (method: string, url: string, body: unknown, cookie = '') => {
      const res = await fetch(hub.baseUrl + url, {
        method,
        headers: { 'content-type': 'application/json', origin: hub.baseUrl, cookie },
        body: JSON.stringify(body),
      });
      if (res.status >= 300) throw new Error(`${url}: ${res.status} ${await res.text()}`);
      return res;
    };
    await api('POST', '/api/auth/register', {
      email: 'una@example.org',
      password: 'correct horse battery',
    });
    const link =
      mail.at(-1)?.kind === 'confirm-registration' ? (mail.at(-1) as { link: string }).link : '';
    const confirmed = await api('POST', '/api/auth/register/confirm', {
      token: link.split('#')[1],
    });
    const session = /dk_session=([^;]+)/.exec(confirmed.headers.get('set-cookie') ?? '')?.[1] ?? '';
    t.ok(session, 'a session cookie');
    const card = { paymentMethod: 'pm_card_visa' };
    await api('POST', '/api/me/deposit', { amountMinor: 5000, card }, `dk_session=${session}`);

    const { context, page } = await openBrowser(t);
    const problems = watchConsole(page);
    await context.addCookies([{ name: 'dk_session', value: session, url: hub.baseUrl }]);
    await page.goto(`${hub.baseUrl}/k/kiosk-1`);
    await page.getByRole('button', { name: /Rent 1 TB/ }).click();
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Expiry (MM/YY)').fill('12/39');
    await page.getByLabel('CVC').fill('123');
    await page.getByRole('button', { name: 'Pay and take the disk' }).click();
    const dispense = await kiosk.waitForCommand((c) => c.action === 'Dispense', 10_000);
    await page.locator('#order-status').getByText('Take your disk from slot 7').waitFor();
    // The kiosk's link drops while the disk is (maybe) coming out.
    await kiosk.terminate();
    const unreachable = page
      .locator('#order-status')
      .getByText(/lost its connection while handing out your disk/);
    await unreachable.waitFor({ timeout: 15_000 });
    t.match(
      (await unreachable.textContent()) ?? '',
      /if not, nothing is charged and the payment is released by /,
      'what happens to the money, and by when',
    );
    await checkPage(t, page, 'renter-order-kiosk-unreachable');
    await page.getByRole('button', { name: "I didn't get my disk" }).click();
    await page
      .getByTestId('not-received')
      .getByText(/an operator will look into it/)
      .waitFor();
    const flags = await admin(hub, 'GET', '/api/operator/reconciliation');
    const orderId = dispense.payload.orderId as string;
    t.ok(
      (flags.flags as Array<{ kind: string; subject: string }>).some(
        (f) => f.kind === 'NOT_RECEIVED' && f.subject === orderId,
      ),
      'the operators see the report as a flag on the order',
    );
    await checkPage(t, page, 'renter-order-not-received');
    // In Chinese too: what happened, what happens to the money, and the report taken.
    await page.getByRole('button', { name: '中文' }).click();
    const status = page.locator('#order-status');
    await status.getByText(/租赁机在出盘时断开了连接/).waitFor();
    t.match(await status.textContent(), /如果没有，不扣任何费用，付款最迟于 .+ 释放/);
    await page
      .getByTestId('not-received')
      .getByText(/运营人员会跟进处理/)
      .waitFor();
    await checkPage(t, page, 'renter-order-kiosk-unreachable-zh');
    t.same(problems, [], 'no page errors');
  },
);
