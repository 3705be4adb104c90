/**
 * "Forgot password" (docs/http-edge.md): the API (request a link; set a new password with its
 * token) and its two small pages in both languages (/forgot-password, /reset-password: the
 * link's target), plain HTML forms. The link carries its token in the fragment
 * (`/reset-password#t=<token>`), which never reaches a server, a proxy or a Referer header: the
 * page's one small script (/reset-password.js) puts it into the form and takes it off the
 * address bar and the history.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RentalError } from '../../rental/errors.js';
import type { RentalDomain } from '../../rental/rental-domain.js';
import { Exact, route } from '../schemas/common.js';
import { acceptForms, esc, htmlPage } from './plain-page.js';

/** The reset pages, titled as such (both languages). */
const resetPage = (reply: FastifyReply, status: number, body: { en: string; zh: string }) =>
  htmlPage(reply, status, body, 'Password · 密码');

const tags = ['accounts'];
const LoginOnly = Exact(
  { login: Type.String({ minLength: 1, maxLength: 254, description: 'e-mail or phone' }) },
  { examples: [{ login: 'ada@example.org' }] },
);
const ResetBody = Exact(
  {
    token: Type.String({
      minLength: 20,
      maxLength: 200,
      description: 'the `t` of the link the hub mailed (`/reset-password#t=<token>`)',
    }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  {
    examples: [
      { token: 'cmVzZXQtdG9rZW4tZXhhbXBsZS0wMTIzNDU2Nzg5', password: 'a new long phrase' },
    ],
  },
);
const SENT =
  'if an account has this login and an e-mail address, we sent it a link to set a new password';

/**
 * The reset page's script: the link's token from the fragment (`#t=<token>`) into every form's
 * `t`, then the address without fragment or query (history.replaceState), so the token is
 * neither shown, nor kept in the history, nor sent anywhere but in the form's POST body.
 */
const RESET_SCRIPT = `(function () {
  var m = /(?:^#|&)t=([^&]+)/.exec(location.hash);
  if (m) {
    var t;
    try { t = decodeURIComponent(m[1]); } catch (e) { t = ''; }
    document.querySelectorAll('input[name="t"]').forEach(function (i) { i.value = t; });
  }
  if (location.hash || location.search) history.replaceState(null, '', location.pathname);
})();
`;

const FORM_EN = (action: string, fields: string, button: string) =>
  `<form method="post" action="${action}">${fields}<button type="submit">${button}</button></form>`;

/** The page's words for a refusal. */
function refusal(err: unknown): { en: string; zh: string } | undefined {
  if (!(err instanceof RentalError)) return undefined;
  switch (err.code) {
    case 'RESET_INVALID':
      return {
        en: '<h1>This link does not work</h1><p>It is unknown, used or expired. <a href="/forgot-password">Ask for a new one</a>.</p>',
        zh: '<h1>此链接无效</h1><p>链接未知、已使用或已过期。<a href="/forgot-password">重新申请</a>。</p>',
      };
    case 'WEAK_PASSWORD':
      return {
        en: `<h1>Choose another password</h1><p>${esc(err.message)}. Go back and try a longer, less common one.</p>`,
        zh: '<h1>请换一个密码</h1><p>此密码太短或太常见。请返回并输入更长、更不常见的密码。</p>',
      };
    case 'TOO_MANY_ATTEMPTS':
      return {
        en: '<h1>Too many requests</h1><p>Wait an hour and try again.</p>',
        zh: '<h1>请求过多</h1><p>请一小时后再试。</p>',
      };
    case 'BUSY':
      return {
        en: '<h1>Busy</h1><p>Try again in a few seconds.</p>',
        zh: '<h1>系统繁忙</h1><p>请几秒后重试。</p>',
      };
    case 'VALIDATION':
      return {
        en: '<h1>Something is missing</h1><p>Go back and fill in the form.</p>',
        zh: '<h1>信息不完整</h1><p>请返回并填写表单。</p>',
      };
  }
  return undefined;
}

export function registerPasswordResetRoutes(fastify: FastifyInstance, d: RentalDomain): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/auth/password-reset/request',
    {
      bodyLimit: 4096,
      ...route({
        method: 'POST',
        summary: 'Forgot password: mail a single-use link to set a new one',
        description:
          'The same answer whether the login has an account or not (the link reaches only the owner of the address). The link is `<publicUrl>/reset-password#t=<token>` (the token in the fragment: browsers never send it, so it stays out of logs and Referer headers), valid `rental.passwordResetTtlSeconds` (1 h); post its token to /api/auth/password-reset. Limited per login and per client address (TOO_MANY_ATTEMPTS), counted whether the login exists or not.',
        tags,
        access: 'public',
        body: LoginOnly,
        response: {
          202: Exact({ status: Type.Literal('reset-sent'), message: Type.String() }),
        },
        errors: ['VALIDATION', 'TOO_MANY_ATTEMPTS'],
      }),
    },
    async (req, reply) => {
      await d.accounts.requestPasswordReset(req.body.login, req.ip);
      reply.status(202);
      return { status: 'reset-sent' as const, message: SENT };
    },
  );

  app.post(
    '/api/auth/password-reset',
    {
      bodyLimit: 4096,
      ...route({
        method: 'POST',
        summary: "Set a new password with a reset link's token (once)",
        description:
          'Ends every session of the account and every other reset link; log in with the new password afterwards.',
        tags,
        access: 'public',
        body: ResetBody,
        response: { 204: Type.Null({ description: 'the password is changed' }) },
        errors: ['RESET_INVALID', 'WEAK_PASSWORD', 'BUSY'],
      }),
    },
    async (req, reply) => {
      await d.accounts.resetPassword(req.body.token, req.body.password, req.ip);
      return reply.status(204).send(null);
    },
  );

  const page = { config: { access: 'public' as const }, schema: { hide: true } };
  const forgotForm = (button: string) =>
    FORM_EN(
      '/forgot-password',
      '<label>E-mail / 邮箱 <input name="login" type="email" autocomplete="email" required maxlength="254"></label>',
      button,
    );
  app.get('/forgot-password', page, async (_req, reply) =>
    resetPage(reply, 200, {
      en: `<h1>Forgot your password?</h1><p>Give the e-mail address of your account: we mail it a link to set a new password.</p>${forgotForm('Send the link')}`,
      zh: `<h1>忘记密码？</h1><p>请输入您账户的邮箱，我们会发送一个设置新密码的链接。</p>${forgotForm('发送链接')}`,
    }),
  );
  // The link's target. Its token is in the fragment, which the browser keeps to itself: the
  // script copies it into the form and clears the address. A link mailed before the fragment
  // (`?t=`) still works, without the script too; the script clears that address as well.
  app.get('/reset-password', page, async (req, reply) => {
    const q = (req.query as Record<string, unknown>).t;
    const t = typeof q === 'string' && q.length >= 20 && q.length <= 200 ? q : '';
    const form = (label: string, button: string) =>
      FORM_EN(
        '/reset-password',
        `<input type="hidden" name="t" value="${esc(t)}"><label>${label} <input name="password" type="password" autocomplete="new-password" required maxlength="1024"></label>`,
        button,
      );
    return resetPage(reply, 200, {
      en: `<h1>Set a new password</h1>${form('New password', 'Save')}<noscript><p>Open the link with JavaScript on: this page reads the link's code with a small script.</p></noscript>`,
      zh: `<h1>设置新密码</h1>${form('新密码', '保存')}<noscript><p>请在启用 JavaScript 的浏览器中打开链接：此页面用一个小脚本读取链接中的代码。</p></noscript><script src="/reset-password.js"></script>`,
    });
  });
  app.get('/reset-password.js', page, async (_req, reply) =>
    reply
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'public, max-age=3600')
      .type('text/javascript; charset=utf-8')
      .send(RESET_SCRIPT),
  );

  app.register(async (scope) => {
    acceptForms(scope);
    const onError = (reply: FastifyReply, err: unknown) => {
      const words = refusal(err);
      if (!words) throw err;
      return resetPage(reply, (err as RentalError).status ?? 400, words);
    };
    scope.post('/forgot-password', page, async (req, reply) => {
      const login = (req.body as Record<string, unknown> | undefined)?.login;
      try {
        await d.accounts.requestPasswordReset(typeof login === 'string' ? login : '', req.ip);
      } catch (err) {
        return onError(reply, err);
      }
      return resetPage(reply, 200, {
        en: `<h1>Check your e-mail</h1><p>If an account has this address, we sent it a link to set a new password. It works once, for an hour.</p><p><a href="/login">Log in</a></p>`,
        zh: '<h1>请查收邮件</h1><p>如果此邮箱有账户，我们已发送设置新密码的链接。链接仅可使用一次，有效期一小时。</p><p><a href="/login">登录</a></p>',
      });
    });
    scope.post('/reset-password', page, async (req, reply) => {
      const b = (req.body as Record<string, unknown> | undefined) ?? {};
      try {
        if (
          typeof b.t !== 'string' ||
          typeof b.password !== 'string' ||
          b.t.length < 20 ||
          b.t.length > 200
        )
          throw new RentalError('RESET_INVALID', 'no token', 400);
        await d.accounts.resetPassword(b.t, b.password, req.ip);
      } catch (err) {
        return onError(reply, err);
      }
      return resetPage(reply, 200, {
        en: '<h1>Your password is changed</h1><p>You were logged out everywhere. <a href="/login">Log in</a> with the new password.</p>',
        zh: '<h1>密码已更改</h1><p>您已在所有设备上退出登录。请用新密码<a href="/login">登录</a>。</p>',
      });
    });
  });
}
