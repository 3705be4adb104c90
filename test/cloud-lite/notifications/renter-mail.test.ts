// Renter e-mail end to end, against the local SMTP sink, on one hub with the test clock:
// receipts after each charge (deposit, rental capture, late fee) and refunds, "reservation
// ready" with its hold end, the leader's due-tomorrow / overdue / expiring reminders, each once
// per cause (after a re-sweep, from a fresh service on the same database, and for a replayed fact), in the
// renter's language, retried after the SMTP server refused, and the signed unsubscribe link
// (page, form post, one-click post, the renter's own settings).
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import t from 'tap';
import { RenterNotifications } from '../../../cloud-lite/notifications/renter-notifications.js';
import { UnsubscribeLinks } from '../../../cloud-lite/notifications/unsubscribe.js';
import { RenterEvents } from '../../../cloud-lite/rental/renter-events.js';
import { type ReceivedMail, startSmtpSink } from '../../helpers/smtp-sink.js';
import { loadedSlot } from '../rental/helpers/loaded-slot.js';
import {
  CARD,
  DAY_MS,
  prepareReady,
  type RentalHub,
  startRentalHub,
  type TestClock,
} from '../rental/helpers/rental-hub.js';

const sink = await startSmtpSink();
t.teardown(() => sink.close());
let offset = 0;
const clock: TestClock = {
  now: () => new Date(Date.now() + offset),
  advance: (ms) => {
    offset += ms;
  },
};
// Everything the hub logs, at every level: the password-reset token must never be in it.
const logLines: string[] = [];
const hubOpts = {
  clock,
  accountMailBySmtp: true,
  logger: pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) }),
  config: {
    smtp: {
      host: '127.0.0.1',
      port: sink.port,
      secure: false,
      requireTls: false,
      from: 'Disk kiosks <noreply@kiosk.test>',
      timeoutMs: 5000,
    },
    // No timer-driven sweeps: the test runs the leader's tick itself.
    notifications: {
      timeZone: 'Asia/Shanghai',
      sweepIntervalMs: 3_600_000,
      dueSoonHours: 24,
      expiringBeforeMinutes: 120,
      maxAttempts: 12,
    },
  },
};
const hub: RentalHub = await startRentalHub(t, hubOpts);
await hub.seedCatalog();
const k = await hub.kiosk('k1', {
  slots: [
    {
      slot: 1,
      state: 'ready',
      diskId: 'k1-d1',
      capacityBytes: 64e9,
      contentId: 'c1',
      contentVersion: 'v1',
      writeProtect: false,
    },
    loadedSlot(3, 'k1-d9'),
  ],
});

const kindOf = (m: ReceivedMail) => String(m.headers.get('x-disk-kiosk-notification') ?? '');
const mailsTo = (email: string, kind: string) =>
  sink.received.filter((m) => m.to.includes(email) && kindOf(m).startsWith(`${kind} `));
/** The `n`th mail of `kind` to `email`, once it arrived. */
const waitMail = async (email: string, kind: string, n = 1) => {
  await sink.waitFor(
    (m) =>
      m.to.includes(email) && kindOf(m).startsWith(`${kind} `) && mailsTo(email, kind).length >= n,
  );
  return mailsTo(email, kind)[n - 1]!;
};
/** The List-Unsubscribe URL (mailparser puts List-* headers under `list`). */
const listUnsubscribe = (m: ReceivedMail) =>
  (m.headers.get('list') as { unsubscribe?: { url?: string } } | undefined)?.unsubscribe?.url;
const linkIn = (m: ReceivedMail) => /https?:\/\/\S+\/unsubscribe\?\S+/.exec(m.text)?.[0];

// Li (zh-CN) rents a disk; Ann (en) reserves one.
const li = await hub.renter();
const ann = await hub.renter();
const lang = await hub.api('POST', '/api/me/notifications', { language: 'zh-CN' }, li.token);
t.equal(lang.status, 200);
t.same(lang.body, {
  language: 'zh-CN',
  kinds: {
    due_tomorrow: true,
    overdue: true,
    reservation_ready: true,
    reservation_expiring: true,
  },
});

t.test('receipts: deposit top-up and rental capture, in the renter language', async (t) => {
  t.equal((await hub.deposit(li.token)).status, 200);
  const dep = await waitMail(li.email, 'receipt');
  t.match(dep.subject, '收据：押金充值 €50.00');
  t.match(dep.text, '凭证号：pay-');
  t.notMatch(dep.text, /4242|card token|tok_/i, 'no card data');
  t.equal(listUnsubscribe(dep), undefined, 'receipts cannot be unsubscribed');

  const o = await hub.api(
    'POST',
    '/api/orders',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: false, days: 1, card: CARD },
    li.token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(o.status, 201, JSON.stringify(o.body));
  const cmd = await k.waitForCommand((c) => c.action === 'Dispense');
  await k.sendEvent('DispenseCompleted', {
    commandId: cmd.payload.commandId as string,
    orderId: o.body.order.id,
    slot: cmd.payload.slot as number,
    diskId: cmd.payload.diskId as string,
    outcome: 'taken',
  });
  await hub.waitOrder(li.token, o.body.order.id, (x) => x.state === 'completed');
  const receipt = await waitMail(li.email, 'receipt', 2);
  t.same(receipt.to, [li.email]);
  t.match(receipt.subject, '收据：租借费用 €2.00');
  t.match(receipt.text, '内容：Films');
  t.match(receipt.text, '租借机：Kiosk k1');
  t.match(receipt.text, '天数：1');
});

let holdUntil = '';
const inShanghai = (iso: string) =>
  new Intl.DateTimeFormat('en', {
    dateStyle: 'full',
    timeStyle: 'short',
    timeZone: 'Asia/Shanghai',
  }).format(new Date(iso));

t.test('reservation ready (with the hold end); SMTP refusal retried', async (t) => {
  t.equal((await hub.deposit(ann.token)).status, 200);
  await waitMail(ann.email, 'receipt');
  const res = await hub.api(
    'POST',
    '/api/reservations',
    { kioskId: 'k1', diskTypeId: 't64', writeProtect: true, days: 2, card: CARD },
    ann.token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(res.status, 201, JSON.stringify(res.body));
  sink.refuse(true);
  const ready = await prepareReady(hub, k, ann.token, res.body.reservation.id, {
    slot: 3,
    diskId: 'k1-d9',
  });
  const row = () =>
    hub.server.store.transaction((tx) =>
      tx.notifications.get('reservation_ready', res.body.reservation.id),
    );
  // The refused attempt is recorded with its retry time.
  for (let i = 0; i < 200 && !(await row())?.lastError; i++)
    await new Promise((r) => setImmediate(r));
  t.match(await row(), { attempts: 1, deliveredAt: null, lastError: /did not take the mail/ });
  t.equal(mailsTo(ann.email, 'reservation_ready').length, 0);
  sink.refuse(false);
  await hub.server.renterMail.deliverDue();
  t.equal(mailsTo(ann.email, 'reservation_ready').length, 0, 'not before its retry time');
  clock.advance(3000);
  await hub.server.renterMail.deliverDue();
  const m = await waitMail(ann.email, 'reservation_ready');
  t.match(m.subject, 'Your reservation of "Films" is ready for pickup');
  t.match(m.text, 'ready at Kiosk k1 (k1 street 1)');
  const holdEnd = inShanghai(ready.holdUntil);
  t.match(m.text, `Pick it up before ${holdEnd}`, 'the hold end in the hub time zone');
  t.match(listUnsubscribe(m), /^http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?u=/);
  t.equal(listUnsubscribe(m), linkIn(m), 'the header and the text carry the same link');
  t.match(await row(), { attempts: 2, deliveredAt: /Z$/ });

  holdUntil = ready.holdUntil;
});

t.test('due tomorrow, reservation expiring, overdue with the fee so far', async (t) => {
  const rental = (await hub.api('GET', '/api/me/rentals', undefined, li.token)).body[0];
  await hub.server.renterMail.tick();
  // A one-day rental is reminded once half of it has passed.
  clock.advance(Date.parse(rental.dueAt) - clock.now().getTime() - 13 * 3600_000);
  await hub.server.renterMail.tick();
  t.equal(mailsTo(li.email, 'due_tomorrow').length, 0, 'not in the first half of the rental');
  clock.advance(2 * 3600_000);
  await hub.server.renterMail.tick();
  const due = await waitMail(li.email, 'due_tomorrow');
  t.match(due.subject, '提醒：「Films」将于明天到期');
  t.match(listUnsubscribe(due), '/unsubscribe?');
  await hub.server.renterMail.tick();
  t.equal(mailsTo(li.email, 'due_tomorrow').length, 1, 'once per due date');

  clock.advance(Date.parse(holdUntil) - clock.now().getTime() - 3600_000);
  await hub.server.renterMail.tick();
  const exp = await waitMail(ann.email, 'reservation_expiring');
  t.match(exp.subject, 'Your reservation of "Films" ends soon');
  t.match(exp.text, `The hold ends on ${inShanghai(holdUntil)}`);

  clock.advance(DAY_MS);
  await hub.server.rental.rentals.accrueAll();
  const fee = await waitMail(li.email, 'receipt', 3);
  t.match(fee.subject, '收据：逾期费（逾期一天） €3.00');
  await hub.server.renterMail.tick();
  const over = await waitMail(li.email, 'overdue');
  t.match(over.subject, '「Films」已逾期，目前逾期费 €3.00');
  t.match(over.text, '每天 €3.00');
});

t.test('the unsubscribe link: page in both languages, form post, one-click', async (t) => {
  const link = linkIn(mailsTo(li.email, 'due_tomorrow')[0]!)!;
  t.ok(link, 'the mail carries the link');
  const page = await fetch(link);
  t.equal(page.status, 200);
  const html = await page.text();
  t.match(html, 'Unsubscribe');
  t.match(html, '退订');
  t.match(page.headers.get('content-security-policy') ?? '', "default-src 'self'");
  const u = new URL(link);
  const forged = new URL(link);
  forged.searchParams.set('k', 'overdue');
  t.equal((await fetch(forged, { method: 'POST' })).status, 400, 'a signature for another kind');
  const post = await fetch(`${hub.baseUrl}/unsubscribe`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: hub.baseUrl },
    body: u.searchParams.toString(),
  });
  t.equal(post.status, 200);
  t.match(await post.text(), '已退订');
  const overLink = listUnsubscribe(mailsTo(li.email, 'overdue')[0]!)!;
  const oneClick = await fetch(overLink, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  t.equal(oneClick.status, 200);
  const me = await hub.api('GET', '/api/me/notifications', undefined, li.token);
  t.same(me.body.kinds, {
    due_tomorrow: false,
    overdue: false,
    reservation_ready: true,
    reservation_expiring: true,
  });
  t.equal((await hub.api('GET', '/api/me/notifications')).status, 401, 'settings need a login');
  const back = await hub.api(
    'POST',
    '/api/me/notifications',
    { kinds: { overdue: true } },
    li.token,
  );
  t.equal(back.body.kinds.overdue, true, 'subscribed again');
});

t.test('forgot password: same answer, a mailed single-use link, sessions ended', async (t) => {
  const ask = (login: string) => hub.api('POST', '/api/auth/password-reset/request', { login });
  const mine = await ask(li.email.toUpperCase());
  const nobody = await ask('nobody@example.test');
  t.equal(mine.status, 202);
  t.same(nobody.body, mine.body, 'the same answer for an unknown login');
  const mail = await sink.waitFor((m) => m.to.includes(li.email) && /密码/.test(m.subject));
  t.equal(mail.subject, '重设您的磁盘租借账户密码', "in the account's language");
  const link = /http:\/\/\S+\/reset-password#t=\S+/.exec(mail.text)?.[0];
  t.ok(link, 'the mail carries the link, its token in the fragment (never sent to a server)');
  t.equal(
    sink.received.filter((m) => m.to.includes('nobody@example.test')).length,
    0,
    'nothing to an unknown login',
  );
  const token = new URL(link!).hash.slice('#t='.length);
  t.equal(token.length, 43, 'a 256-bit token');
  const page = await fetch(link!); // the fragment stays in the client
  t.equal(page.status, 200);
  t.equal(page.headers.get('referrer-policy'), 'no-referrer');
  const html = await page.text();
  t.match(html, /Set a new password[\s\S]*设置新密码/);
  t.notOk(html.includes(token), 'the server never saw the token');
  t.match(html, '<script src="/reset-password.js"></script>', 'the script fills the form');
  const script = await fetch(`${hub.baseUrl}/reset-password.js`);
  t.match(script.headers.get('content-type'), /^text\/javascript/);
  t.match(await script.text(), /location\.hash[\s\S]*history\.replaceState/);
  // A link mailed before the fragment (`?t=`) still fills the form, without the script too.
  const old = await (await fetch(`${hub.baseUrl}/reset-password?t=${token}`)).text();
  t.match(old, `name="t" value="${token}"`);
  const post = (password: string) =>
    fetch(`${hub.baseUrl}/reset-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: hub.baseUrl },
      body: new URLSearchParams({ t: token, password }).toString(),
    });
  const weak = await post('password');
  t.equal(weak.status, 400, 'a weak password is refused');
  t.match(await weak.text(), '请换一个密码');
  const done = await post('a brand new long passphrase');
  t.equal(done.status, 200);
  t.match(await done.text(), 'Your password is changed');
  const again = await hub.api('POST', '/api/auth/password-reset', {
    token,
    password: 'yet another long passphrase',
  });
  t.equal(again.body.error?.code, 'RESET_INVALID', 'the link works once');
  t.equal((await hub.api('GET', '/api/me', undefined, li.token)).status, 401, 'sessions ended');
  const login = await hub.api('POST', '/api/auth/login', {
    login: li.email,
    password: 'a brand new long passphrase',
  });
  t.equal(login.status, 200, 'the new password logs in');
  li.token = login.body.token;
  // Limited per login whether it has an account or not: no way to tell them apart.
  const more: number[] = [];
  for (let i = 0; i < 3; i++) more.push((await ask('nobody@example.test')).status);
  t.same(more, [202, 202, 429]);
  t.ok(logLines.length > 0, 'the hub logged');
  t.notOk(
    logLines.some((l) => l.includes(token)),
    'the hub log never records the token',
  );
});

t.test('a fresh process and a replayed fact send nothing twice', async (t) => {
  const before = sink.received.length;
  const { server } = hub;
  // What a restarted hub would run: no memory of its own, only the database.
  const fresh = new RenterNotifications({
    store: server.store,
    mailer: server.mailer,
    logger: pino({ level: 'silent' }),
    config: { ...hubOpts.config.notifications, timeZone: 'UTC' },
    rental: { config: server.rental.deps.config, events: new RenterEvents() },
    links: new UnsubscribeLinks(server.signingKey.privateKey, () => hub.baseUrl),
    origin: () => hub.baseUrl,
    now: clock.now,
  });
  fresh.start();
  await fresh.tick();
  await fresh.stop();
  // The kiosk's PrepareCompleted told again (a replay reaching the domain's handler).
  const [r] = await server.store.transaction((tx) => tx.reservations.listByUser(ann.userId, 1));
  await server.store.transaction((tx) =>
    server.rental.events.emit(tx, { type: 'reservation_ready', reservation: r! }),
  );
  await server.renterMail.deliverDue();
  t.equal(sink.received.length, before, 'no mail repeated');
  const left = await server.store.transaction((tx) =>
    tx.notifications.due(new Date(8.64e15).toISOString(), 100),
  );
  t.same(left, [], 'nothing left in the outbox');
});

t.test('registration mails in the renter language, which the account keeps', async (t) => {
  // The browser says Chinese (Accept-Language); no language in the body.
  const wang = `wang-${randomUUID().slice(0, 8)}@example.test`;
  const zhHeaders = { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' };
  const asked = await hub.api(
    'POST',
    '/api/auth/register',
    { email: wang, password: 'correct horse battery' },
    null,
    zhHeaders,
  );
  t.equal(asked.status, 202);
  const mail = await sink.waitFor((m) => m.to.includes(wang));
  t.equal(mail.subject, '确认您的磁盘租借账户', 'the confirmation in Chinese');
  t.match(mail.text, '请打开此链接完成注册');
  const link = /https?:\/\/\S+\/register\/confirm#\S+/.exec(mail.text)?.[0];
  t.ok(link, 'with the link');
  const done = await hub.api('POST', '/api/auth/register/confirm', {
    token: link!.split('#')[1],
  });
  t.equal(done.status, 201);
  const settings = await hub.api('GET', '/api/me/notifications', undefined, done.body.token);
  t.equal(settings.body.language, 'zh-CN', 'the account keeps the language of its registration');

  // Registering again with that address: the owner's note is in the owner's language, even
  // from an English browser.
  await hub.api(
    'POST',
    '/api/auth/register',
    { email: wang, password: 'another good passphrase' },
    null,
    { 'accept-language': 'en-GB' },
  );
  const note = await sink.waitFor((m) => m.to.includes(wang) && m !== mail);
  t.equal(note.subject, '您已有磁盘租借账户');

  // The page's language in the body wins over the header; English by default.
  const ann2 = `ann-${randomUUID().slice(0, 8)}@example.test`;
  await hub.api(
    'POST',
    '/api/auth/register',
    { email: ann2, password: 'correct horse battery', language: 'en' },
    null,
    zhHeaders,
  );
  t.equal(
    (await sink.waitFor((m) => m.to.includes(ann2))).subject,
    'Confirm your disk kiosk account',
  );
});
