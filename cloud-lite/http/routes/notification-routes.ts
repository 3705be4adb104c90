/**
 * Renter e-mail settings (cloud-lite/notifications/; docs/alerts-and-notifications.md): the
 * renter's own on /api/me/notifications, and the signed unsubscribe link's small page
 * (/unsubscribe: GET shows what it stops and a button, POST does it; POST is also the
 * List-Unsubscribe one-click target, RFC 8058).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  MAIL_LANGUAGES,
  mailLanguage,
  OPTIONAL_KINDS,
  type OptionalKind,
} from '../../notifications/renter-mail-text.js';
import type { UnsubscribeLinks } from '../../notifications/unsubscribe.js';
import type { Store } from '../../store/types.js';
import { Exact, route } from '../schemas/common.js';
import { acceptForms, esc, htmlPage } from './plain-page.js';

export interface NotificationRoutesDeps {
  store: Store;
  links: UnsubscribeLinks;
  now: () => Date;
}

const Kinds = Exact(
  Object.fromEntries(OPTIONAL_KINDS.map((k) => [k, Type.Boolean()])) as Record<
    OptionalKind,
    ReturnType<typeof Type.Boolean>
  >,
  { description: 'true: the renter gets this kind of e-mail (receipts always go)' },
);
const Settings = Exact({
  language: Type.Union(
    MAIL_LANGUAGES.map((l) => Type.Literal(l)),
    { description: "the language of the renter's e-mails" },
  ),
  kinds: Kinds,
});
const SettingsBody = Exact({
  language: Type.Optional(Type.Union(MAIL_LANGUAGES.map((l) => Type.Literal(l)))),
  kinds: Type.Optional(Type.Partial(Kinds)),
});

/** Each kind's name on the unsubscribe page, in both languages. */
const KIND_NAMES: Record<OptionalKind, { en: string; zh: string }> = {
  due_tomorrow: { en: '"due tomorrow" reminders', zh: '“明天到期”提醒' },
  overdue: { en: 'overdue notices', zh: '逾期通知' },
  reservation_ready: { en: '"reservation ready" notices', zh: '“预约可取件”通知' },
  reservation_expiring: { en: '"reservation ends soon" reminders', zh: '“预约即将失效”提醒' },
};

const INVALID = {
  en: '<h1>This link does not work</h1><p>It may have been cut short by your mail program. Change which e-mails you get on <a href="/me">your account page</a>.</p>',
  zh: '<h1>此链接无效</h1><p>可能被邮件程序截断了。请在<a href="/me">您的账户页面</a>上更改邮件设置。</p>',
};

export function registerNotificationRoutes(fastify: FastifyInstance, d: NotificationRoutesDeps) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['accounts'];

  const settingsOf = async (userId: string) =>
    d.store.transaction(async (tx) => {
      const user = (await tx.users.get(userId))!;
      const out = new Set(await tx.notifications.listOptOuts(userId));
      return {
        language: mailLanguage(user.language),
        kinds: Object.fromEntries(OPTIONAL_KINDS.map((k) => [k, !out.has(k)])) as Record<
          OptionalKind,
          boolean
        >,
      };
    });

  app.get(
    '/api/me/notifications',
    route({
      method: 'GET',
      summary: 'My e-mail settings: their language and the kinds I get',
      description:
        'Receipts always go and are not listed. docs/alerts-and-notifications.md says what each kind is and when it is sent.',
      tags,
      access: 'account',
      response: { 200: Settings },
    }),
    async (req) => settingsOf(req.who!.userId),
  );

  app.post(
    '/api/me/notifications',
    {
      bodyLimit: 4096,
      ...route({
        method: 'POST',
        summary: 'Change my e-mail settings (language, kinds on or off)',
        description:
          'Only the keys sent change. `kinds.<kind>: false` unsubscribes from that kind (as the link in its e-mails does); true subscribes again.',
        tags,
        access: 'account',
        body: SettingsBody,
        response: { 200: Settings },
      }),
    },
    async (req) => {
      const userId = req.who!.userId;
      const at = d.now().toISOString();
      await d.store.transaction(async (tx) => {
        if (req.body.language) await tx.users.update(userId, { language: req.body.language });
        for (const [kind, on] of Object.entries(req.body.kinds ?? {})) {
          if (on) await tx.notifications.optIn(userId, kind);
          else await tx.notifications.optOut(userId, kind, at);
        }
      });
      return settingsOf(userId);
    },
  );

  // The unsubscribe link's page: not API (left out of the document), open to the link's holder.
  const page = { config: { access: 'public' as const }, schema: { hide: true } };
  app.get('/unsubscribe', page, async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const ok = d.links.verify(q);
    if (!ok) return htmlPage(reply, 400, INVALID);
    const name = KIND_NAMES[ok.kind];
    const hidden = (['u', 'k', 's'] as const)
      .map((n) => `<input type="hidden" name="${n}" value="${esc(String(q[n]))}">`)
      .join('');
    const form = (label: string) =>
      `<form method="post" action="/unsubscribe">${hidden}<button type="submit">${label}</button></form>`;
    return htmlPage(reply, 200, {
      en: `<h1>Stop ${esc(name.en)}?</h1><p>You will no longer get ${esc(name.en)} by e-mail. Receipts still come.</p>${form('Unsubscribe')}`,
      zh: `<h1>不再接收${esc(name.zh)}？</h1><p>您将不再通过邮件收到${esc(name.zh)}。收据仍会发送。</p>${form('退订')}`,
    });
  });

  // Form posts (the page's button) and one-click posts from mail programs.
  app.register(async (scope) => {
    acceptForms(scope);
    scope.post('/unsubscribe', page, async (req, reply) => {
      const q = { ...(req.query as object), ...((req.body as object | undefined) ?? {}) };
      const ok = d.links.verify(q);
      if (!ok) return htmlPage(reply, 400, INVALID);
      await d.store.transaction(async (tx) => {
        if (await tx.users.get(ok.userId))
          await tx.notifications.optOut(ok.userId, ok.kind, d.now().toISOString());
      });
      req.log.info({ userId: ok.userId, kind: ok.kind }, 'renter unsubscribed by link');
      const name = KIND_NAMES[ok.kind];
      return htmlPage(reply, 200, {
        en: `<h1>Unsubscribed</h1><p>You will no longer get ${esc(name.en)} by e-mail. Change this any time on <a href="/me">your account page</a>.</p>`,
        zh: `<h1>已退订</h1><p>您将不再通过邮件收到${esc(name.zh)}。可随时在<a href="/me">您的账户页面</a>上更改。</p>`,
      });
    });
  });
}
