import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../../cloud-lite/config.js';
import { createLogger } from '../../../cloud-lite/log.js';
import { createMailer, MailError } from '../../../cloud-lite/notifications/mailer.js';
import { emailAccountMailer } from '../../../cloud-lite/rental/accounts/account-mail.js';
import { startSmtpSink } from '../../helpers/smtp-sink.js';

const logger = createLogger('silent');

t.test('sends through an SMTP server with a login read from a file', async (t) => {
  const sink = await startSmtpSink({ auth: { user: 'hub', password: 's3cret pass' } });
  t.teardown(() => sink.close());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mailer-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'smtp-pass'), 's3cret pass\n');
  const config = loadConfig({
    env: {
      CLOUD_LITE_ADMIN_TOKEN: 'x'.repeat(16),
      CLOUD_LITE_SMTP_HOST: '127.0.0.1',
      CLOUD_LITE_SMTP_PORT: String(sink.port),
      CLOUD_LITE_SMTP_USER: 'hub',
      CLOUD_LITE_SMTP_PASSWORD_FILE: path.join(dir, 'smtp-pass'),
      CLOUD_LITE_SMTP_FROM: 'Disk kiosks <noreply@kiosk.test>',
    },
  });
  t.equal(config.smtp?.port, sink.port, 'port converted from the environment');
  const mailer = createMailer({ ...config.smtp!, requireTls: false }, logger);
  t.teardown(() => mailer.close());
  t.equal(mailer.configured, true);
  const sent = await mailer.send({
    to: 'renter@example.test',
    subject: 'Ihr Leihschein – 租借收据',
    text: 'Grüße, 你好\nline two',
    headers: { 'X-Kind': 'test' },
  });
  t.ok(sent.messageId);
  const got = sink.received[0]!;
  t.same(got.to, ['renter@example.test']);
  t.equal(got.from, 'noreply@kiosk.test');
  t.equal(got.user, 'hub', 'authenticated with the file password');
  t.equal(got.subject, 'Ihr Leihschein – 租借收据', 'non-ASCII subject survives');
  t.equal(got.text.trim(), 'Grüße, 你好\nline two');
  t.equal(got.headers.get('x-kind'), 'test');
});

t.test('a refused message rejects with MailError (EMAIL); a wrong password too', async (t) => {
  const sink = await startSmtpSink({ auth: { user: 'hub', password: 'right' } });
  t.teardown(() => sink.close());
  const base = { host: '127.0.0.1', port: sink.port, secure: false, requireTls: false };
  const wrong = createMailer(
    { ...base, user: 'hub', password: 'wrong', from: 'a@kiosk.test', timeoutMs: 5000 },
    logger,
  );
  t.teardown(() => wrong.close());
  await t.rejects(wrong.send({ to: 'x@example.test', subject: 's', text: 't' }), {
    name: 'MailError',
    code: 'EMAIL',
  });
  const right = createMailer(
    { ...base, user: 'hub', password: 'right', from: 'a@kiosk.test', timeoutMs: 5000 },
    logger,
  );
  t.teardown(() => right.close());
  sink.refuse(true);
  const err = await right.send({ to: 'x@example.test', subject: 's', text: 't' }).catch((e) => e);
  t.ok(err instanceof MailError, 'a 451 rejects');
  t.match(err.message, /did not take the mail "s"/);
  sink.refuse(false);
  await right.send({ to: 'x@example.test', subject: 'again', text: 't' });
  t.same(
    sink.received.map((m) => m.subject),
    ['again'],
    'only the accepted one arrived',
  );
});

t.test(
  'without SMTP the mailer logs only; account mail goes out by e-mail with SMTP',
  async (t) => {
    const none = createMailer(undefined, logger);
    t.equal(none.configured, false);
    t.same(await none.send({ to: 'a@b.test', subject: 's', text: 't' }), { messageId: null });

    const sink = await startSmtpSink();
    t.teardown(() => sink.close());
    const mailer = createMailer(
      {
        host: '127.0.0.1',
        port: sink.port,
        secure: false,
        requireTls: false,
        from: 'noreply@kiosk.test',
        timeoutMs: 5000,
      },
      logger,
    );
    t.teardown(() => mailer.close());
    const account = emailAccountMailer(mailer, logger);
    await account.send({
      kind: 'confirm-registration',
      to: { email: 'new@example.test', phone: null },
      link: 'https://hub.test/register/confirm#tok123',
      expiresAt: '2026-12-07T00:00:00.000Z',
      language: null,
    });
    await account.send({
      kind: 'already-registered',
      to: { email: null, phone: '+8613800000000' },
      loginLink: 'https://hub.test/login',
      language: null,
    });
    t.equal(sink.received.length, 1, 'the phone-only message is logged, not mailed');
    t.same(sink.received[0]!.to, ['new@example.test']);
    t.match(sink.received[0]!.text, 'https://hub.test/register/confirm#tok123');
    sink.refuse(true);
    await t.resolves(
      account.send({
        kind: 'already-registered',
        to: { email: 'old@example.test', phone: null },
        loginLink: 'https://hub.test/login',
        language: 'zh-CN',
      }),
      'a refused account mail does not fail the request that caused it',
    );
  },
);

t.test('smtp configuration errors name the key', async (t) => {
  const env = { CLOUD_LITE_ADMIN_TOKEN: 'x'.repeat(16) };
  t.throws(
    () =>
      loadConfig({
        env: { ...env, CLOUD_LITE_SMTP_HOST: 'mail.test', CLOUD_LITE_SMTP_PORT: 'abc' },
      }),
    { code: 'ECONFIG', message: /smtp/ },
  );
  t.throws(
    () =>
      loadConfig({
        env,
        overrides: {
          smtp: {
            host: 'mail.test',
            port: 25,
            secure: false,
            from: 'a@b.test',
            password: 'p',
            passwordFile: '/x',
            timeoutMs: 1000,
          },
        },
      }),
    { code: 'ECONFIG', message: /both set/ },
  );
  t.throws(
    () =>
      createMailer(
        {
          host: 'mail.test',
          port: 25,
          secure: false,
          from: 'a@b.test',
          user: 'u',
          passwordFile: '/nonexistent/pass',
          timeoutMs: 1000,
        },
        logger,
      ),
    { code: 'ECONFIG', message: /smtp.passwordFile/ },
  );
});
