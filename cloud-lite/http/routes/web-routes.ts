import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { repoRoot } from '../../package-info.js';
import { sendError } from '../errors.js';

/** What the build's manifest.json holds (scripts/build-web.ts): the hashed names the pages load. */
export interface WebManifest {
  css: string;
  favicon: string;
  /** Per app: its entry script and the shared chunks it imports (preloaded). */
  renter: { js: string; preload: string[] };
  ops: { js: string; preload: string[] };
}
export const MANIFEST = 'manifest.json';

export interface WebOptions {
  /** Folder of the built assets (scripts/build-web.ts). Default: <repo>/dist/web. */
  assetDir?: string;
  /** Origins the pages may load images from besides this hub: the map's tile server. */
  imgOrigins?: string[];
  /**
   * Stripe.js's URL when the payment provider is Stripe: the renter page may then load it and
   * show its frames (added to the Content-Security-Policy, with Stripe's API and 3-D Secure hosts).
   */
  stripeJsUrl?: string;
}

/** Paths answered with the renter app's HTML; the app routes them in the browser. */
export const RENTER_PAGES = [
  '/',
  '/k/*',
  '/login',
  '/register/confirm',
  '/kiosks',
  '/reserve/*',
  '/orders/*',
  '/reservations/*',
  '/me',
  '/me/*',
];
/** Paths answered with the operator dashboard's HTML. */
export const OPS_PAGES = ['/ops', '/ops/*'];

/**
 * No inline script or style, no third-party origin: everything comes from this server.
 * (Preact sets styles through the CSSOM, which style-src does not restrict.)
 */
/**
 * The pages' Content-Security-Policy. `imgOrigins`: the map's tile server. `stripeJsUrl` (the
 * Stripe provider): its origin may serve scripts and frames (the Payment Element lives in
 * Stripe's frames), with Stripe's API and 3-D Secure hosts, as Stripe documents
 * (docs.stripe.com/security/guide#content-security-policy).
 */
export function contentSecurityPolicy(
  opts: { imgOrigins?: readonly string[]; stripeJsUrl?: string } = {},
): string {
  const js = opts.stripeJsUrl ? new URL(opts.stripeJsUrl).origin : undefined;
  const more = (...o: (string | undefined)[]) =>
    js ? ` ${o.filter((x, i) => x && o.indexOf(x) === i).join(' ')}` : '';
  return [
    "default-src 'self'",
    `script-src 'self'${more(js)}`,
    "style-src 'self'",
    ["img-src 'self' data:", ...(opts.imgOrigins ?? [])].join(' '),
    `connect-src 'self'${more('https://api.stripe.com', js)}`,
    "font-src 'self'",
    ...(js ? [`frame-src${more(js, 'https://hooks.stripe.com')}`] : []),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
/** The policy when the map's tiles come from this hub (`map.tileDir`) and no Stripe. */
export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

/** What /assets/ serves, by extension. No `.map`: the hub publishes no source maps. */
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

export function defaultAssetDir(): string {
  return path.join(repoRoot(), 'dist/web');
}

function page(title: string, entry: 'renter' | 'ops', m: WebManifest): string {
  const a = (name: string) => `/assets/${name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${title}</title>
<link rel="icon" href="${a(m.favicon)}" type="image/svg+xml">
<link rel="stylesheet" href="${a(m.css)}">
${m[entry].preload.map((c) => `<link rel="modulepreload" href="${a(c)}">\n`).join('')}<script type="module" src="${a(m[entry].js)}"></script>
</head>
<body>
<div id="app"><noscript>This page needs JavaScript.</noscript></div>
</body>
</html>
`;
}

function securityHeaders(reply: FastifyReply, csp = CONTENT_SECURITY_POLICY): FastifyReply {
  return reply
    .header('content-security-policy', csp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('permissions-policy', 'geolocation=(self), camera=(), microphone=()');
}

/**
 * Serves the renter web app (/, /k/<kioskId>, ...) and the operator dashboard (/ops) as
 * single-page apps, and their built assets under /assets/. Answers 503 with a hint when
 * the assets have not been built (`npm run build:web`).
 */
export type NotFoundPage = (req: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined;

/**
 * Paths that are never pages: the API, assets, tiles, the kiosks' socket and the machines'
 * endpoints keep their JSON 404.
 */
const NOT_PAGES = /^\/(api|assets|tiles|kiosk|content|metrics|healthz)(\/|$|\?)/;

export async function registerWeb(
  app: FastifyInstance,
  opts: WebOptions = {},
): Promise<NotFoundPage> {
  const assetDir = opts.assetDir ?? defaultAssetDir();
  // The pages name the hashed assets of the build's manifest, read once it is there.
  let pages: { renter: string; ops: string; hashed: Set<string>; favicon: string } | undefined;
  const built = () => {
    if (pages) return pages;
    const file = path.join(assetDir, MANIFEST);
    if (!existsSync(file)) return undefined;
    const m = JSON.parse(readFileSync(file, 'utf8')) as WebManifest;
    pages = {
      renter: page('Disk rental', 'renter', m),
      ops: page('Disk kiosks: operations', 'ops', m),
      hashed: new Set([
        m.css,
        m.favicon,
        ...(['renter', 'ops'] as const).flatMap((e) => [m[e].js, ...m[e].preload]),
      ]),
      favicon: m.favicon,
    };
    return pages;
  };
  const csp = contentSecurityPolicy({ imgOrigins: opts.imgOrigins, stripeJsUrl: opts.stripeJsUrl });
  const sendPage = (reply: FastifyReply, which: 'renter' | 'ops') => {
    securityHeaders(reply, csp).header('cache-control', 'no-cache');
    const p = built();
    if (!p) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The web pages are not built: run `npm run build:web` (or `npm run build`).\n');
    }
    return reply.type('text/html; charset=utf-8').send(p[which]);
  };
  // Pages and their assets, not API: open to anyone, left out of the API document.
  const route = { config: { access: 'public' as const }, schema: { hide: true } };
  for (const p of RENTER_PAGES) app.get(p, route, (_req, reply) => sendPage(reply, 'renter'));
  for (const p of OPS_PAGES) app.get(p, route, (_req, reply) => sendPage(reply, 'ops'));
  // Browsers that ask for /favicon.ico anyway get the build's icon.
  app.get('/favicon.ico', route, (_req, reply) => {
    const p = built();
    if (!p) return sendError(reply, 404, 'NOT_FOUND', 'no favicon');
    return reply.redirect(`/assets/${p.favicon}`, 301);
  });
  app.get<{ Params: { name: string } }>('/assets/:name', route, async (req, reply) => {
    const { name } = req.params;
    const type = TYPES[path.extname(name)];
    if (!ASSET_NAME.test(name) || name.includes('..') || !type) {
      return sendError(reply, 404, 'NOT_FOUND', `no asset ${name}`);
    }
    // The precompressed twin the browser accepts (brotli first), else the file itself.
    const accepts = String(req.headers['accept-encoding'] ?? '');
    let body: Buffer | undefined;
    for (const [enc, ext] of [
      ['br', '.br'],
      ['gzip', '.gz'],
    ] as const) {
      if (body || !new RegExp(`\\b${enc}\\b`).test(accepts)) continue;
      body = await readFile(path.join(assetDir, name + ext)).catch(() => undefined);
      if (body) reply.header('content-encoding', enc);
    }
    try {
      body ??= await readFile(path.join(assetDir, name));
    } catch {
      return sendError(reply, 404, 'NOT_FOUND', `no asset ${name}`);
    }
    // Hashed names never change content: cached for a year without asking again.
    securityHeaders(reply)
      .header('vary', 'accept-encoding')
      .header(
        'cache-control',
        built()?.hashed.has(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
      .type(type);
    return reply.send(body);
  });
  // An unknown path a browser opens gets the renter app with status 404: it shows "Page not
  // found" with a way on, in the renter's language. API clients keep the JSON 404.
  return (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
    if (NOT_PAGES.test(req.url) || !/text\/html/.test(req.headers.accept ?? '')) return undefined;
    const p = built();
    if (!p) return undefined;
    securityHeaders(reply, csp).header('cache-control', 'no-cache');
    return reply.status(404).type('text/html; charset=utf-8').send(p.renter);
  };
}
