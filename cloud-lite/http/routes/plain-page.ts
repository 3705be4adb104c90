/**
 * Small server-rendered pages in both languages the pages speak (English, then Chinese), for
 * links opened from e-mail (unsubscribe, password reset): no script, plain HTML forms posting
 * back to the hub, the web pages' security headers, never cached.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { escapeHtml } from '../../notifications/renter-mail-text.js';
import { CONTENT_SECURITY_POLICY } from './web-routes.js';

export { escapeHtml as esc };

/**
 * Answers with a page holding `body.en` and `body.zh` (HTML, already escaped), titled `title`
 * (both languages, plain text).
 */
export function htmlPage(
  reply: FastifyReply,
  status: number,
  { en, zh }: { en: string; zh: string },
  title = 'E-mail settings · 邮件设置',
) {
  return reply
    .status(status)
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
</head>
<body>
<main>
<section lang="en">${en}</section>
<hr>
<section lang="zh-CN">${zh}</section>
</main>
</body>
</html>
`,
    );
}

/** Lets the routes of `scope` take HTML form posts (application/x-www-form-urlencoded, 4 KiB). */
export function acceptForms(scope: FastifyInstance): void {
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
}
