import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { repoRoot } from '../../package-info.js';
import { sendError } from '../errors.js';
import { requestToken } from '../guard.js';

/** What the build's manifest.json holds (scripts/build-web.ts): the hashed names the pages load. */
export interface WebManifest {
  css: string;
  favicon: string;
  /** Per app: its entry script and the shared chunks it imports (preloaded). */
  renter: { js: string; preload: string[] };
  ops: { js: string; preload: string[] };
  /** The renter app bundled for Node (SSR_DIR/renter-ssr-<hash>.mjs): the hub renders /k/<id> with it. */
  ssr?: string;
}
export const MANIFEST = 'manifest.json';
/** The asset folder's subfolder of the server renderer (never served: /assets/ has no subfolders). */
export const SSR_DIR = 'ssr';

/** A kiosk's public offer (GET /api/kiosks/{id}/offer's answer), or why there is none. */
export type OfferLookup = (
  kioskId: string,
  clientIp: string,
) => Promise<
  | { offer: Record<string, unknown> & { kiosk: { name: string } } }
  | { error: { status: number; code: string; message: string } }
>;

/** What the server renderer (cloud-lite/web/src/renter-ssr.tsx) exports. */
interface RenterRenderer {
  requestLanguage(cookie: string | undefined, acceptLanguage: string | undefined): string;
  renderRenterPage(opts: {
    url: URL;
    lang: string;
    preload: { kioskId: string; offer?: unknown; error?: unknown };
  }): { html: string; title: string };
}

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
  /**
   * The kiosks' public offers: /k/<id> then comes with the offer rendered into the page and as
   * JSON for the app (no API round trip before the renter sees it and can press Rent).
   */
  kioskOffer?: OfferLookup;
  /**
   * Whether a session token belongs to a live session (Accounts.authenticate): /k/<id> renders
   * the header of a signed-in renter at once, instead of the logged-out one until /api/me answers.
   */
  signedIn?: (token: string) => Promise<boolean>;
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
 * (docs.stripe.com/security/guide#content-security-policy). `styleHashes` ('sha256-...'): the
 * one inline stylesheet a page may have (the app's, inlined into /k/<id>), by its hash.
 */
export function contentSecurityPolicy(
  opts: {
    imgOrigins?: readonly string[];
    stripeJsUrl?: string;
    styleHashes?: readonly string[];
  } = {},
): string {
  const js = opts.stripeJsUrl ? new URL(opts.stripeJsUrl).origin : undefined;
  const more = (...o: (string | undefined)[]) =>
    js ? ` ${o.filter((x, i) => x && o.indexOf(x) === i).join(' ')}` : '';
  return [
    "default-src 'self'",
    `script-src 'self'${more(js)}`,
    ["style-src 'self'", ...(opts.styleHashes ?? []).map((h) => `'${h}'`)].join(' '),
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

/**
 * The stylesheet as a page may carry it inline, with its hash for the CSP; undefined when it
 * could close its <style> element (never for our own CSS) or is missing.
 */
function inlineStyle(file: string): { text: string; hash: string } | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  if (/<\/style/i.test(text)) return undefined;
  return { text, hash: `sha256-${createHash('sha256').update(text).digest('base64')}` };
}

/** The body in the best encoding the client accepts (brotli, gzip, else as it is). */
function encoded(accepts: string, body: string): { encoding?: string; body: Buffer | string } {
  if (/\bbr\b/.test(accepts)) {
    const q = { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } };
    return { encoding: 'br', body: brotliCompressSync(body, q) };
  }
  if (/\bgzip\b/.test(accepts)) return { encoding: 'gzip', body: gzipSync(body, { level: 6 }) };
  return { body };
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** JSON inside <script type="application/json">: nothing in it can close the element. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/**
 * A page: its title, the assets of its app (`entry`), and what the hub rendered into it
 * (`body`: the app's markup, which the app takes over; `data`: its preloaded JSON).
 */
function page(
  m: WebManifest,
  entry: 'renter' | 'ops',
  o: { title: string; lang?: string; body?: string; data?: unknown; inlineCss?: string },
): string {
  const a = (name: string) => `/assets/${name}`;
  const data =
    o.data === undefined
      ? ''
      : `<script type="application/json" id="dk-preload">${scriptJson(o.data)}</script>\n`;
  const app =
    o.body === undefined
      ? '<div id="app"><noscript>This page needs JavaScript.</noscript></div>'
      : `<div id="app" data-ssr>${o.body}</div>`;
  return `<!doctype html>
<html lang="${escapeHtml(o.lang ?? 'en')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>${escapeHtml(o.title)}</title>
<link rel="icon" href="${a(m.favicon)}" type="image/svg+xml">
${o.inlineCss === undefined ? `<link rel="stylesheet" href="${a(m.css)}">` : `<style>${o.inlineCss}</style>`}
${m[entry].preload.map((c) => `<link rel="modulepreload" href="${a(c)}">\n`).join('')}<script type="module" src="${a(m[entry].js)}"></script>
</head>
<body>
${data}${app}
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
  let pages:
    | {
        renter: string;
        ops: string;
        hashed: Set<string>;
        favicon: string;
        manifest: WebManifest;
        /** The app's stylesheet and its CSP hash, for the pages that carry it inline. */
        css?: { text: string; hash: string } | undefined;
      }
    | undefined;
  const built = () => {
    if (pages) return pages;
    const file = path.join(assetDir, MANIFEST);
    if (!existsSync(file)) return undefined;
    const m = JSON.parse(readFileSync(file, 'utf8')) as WebManifest;
    pages = {
      renter: page(m, 'renter', { title: 'Disk rental' }),
      ops: page(m, 'ops', { title: 'Disk kiosks: operations' }),
      manifest: m,
      css: inlineStyle(path.join(assetDir, m.css)),
      hashed: new Set([
        m.css,
        m.favicon,
        ...(['renter', 'ops'] as const).flatMap((e) => [m[e].js, ...m[e].preload]),
      ]),
      favicon: m.favicon,
    };
    return pages;
  };
  const cspOpts = { imgOrigins: opts.imgOrigins, stripeJsUrl: opts.stripeJsUrl };
  const csp = contentSecurityPolicy(cspOpts);
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
  // The renter app for Node, loaded once on first use; a build without it serves the bare page.
  let renderer: Promise<RenterRenderer | undefined> | undefined;
  const loadRenderer = (m: WebManifest) => {
    renderer ??= m.ssr
      ? (import(pathToFileURL(path.join(assetDir, m.ssr)).href) as Promise<RenterRenderer>).catch(
          (err: Error) => {
            app.log.warn(
              { err },
              'web: the server renderer did not load; pages render in the browser',
            );
            return undefined;
          },
        )
      : Promise.resolve(undefined);
    return renderer;
  };
  // A kiosk's QR page: its offer rendered into the page, fresh per request (stock, online), with
  // the same data as JSON for the app. An unknown kiosk: its page says so, status 404.
  app.get<{ Params: { id: string } }>('/k/:id', route, async (req, reply) => {
    const p = built();
    if (!p || !opts.kioskOffer) return sendPage(reply, 'renter');
    const kioskId = req.params.id;
    const [found, ssr] = await Promise.all([
      opts.kioskOffer(kioskId, req.ip).catch((err: Error) => {
        req.log.warn({ err, kioskId }, 'web: no offer for the page; the app asks the API');
        return undefined;
      }),
      loadRenderer(p.manifest),
    ]);
    // Throttled (or the store failed): the bare page; the app's own request says why.
    if (!found || ('error' in found && found.error.status !== 404)) {
      return sendPage(reply, 'renter');
    }
    const token = requestToken(req);
    const signedIn =
      token !== undefined && opts.signedIn ? await opts.signedIn(token).catch(() => false) : false;
    const preload = { kioskId, ...found, ...(signedIn ? { signedIn: true } : {}) };
    const url = new URL(req.url, 'http://hub.invalid');
    let html = page(p.manifest, 'renter', { title: 'Disk rental', data: preload });
    let pageCsp = csp;
    // With ?type= (the checkout) only the data: that form's controls need the app.
    if (ssr && !url.searchParams.has('type')) {
      try {
        const lang = ssr.requestLanguage(req.headers.cookie, req.headers['accept-language']);
        const r = ssr.renderRenterPage({ url, lang, preload });
        // The stylesheet inline (its hash in the CSP): the page draws without another request.
        html = page(p.manifest, 'renter', {
          title: r.title,
          lang,
          data: preload,
          body: r.html,
          ...(p.css ? { inlineCss: p.css.text } : {}),
        });
        if (p.css) pageCsp = contentSecurityPolicy({ ...cspOpts, styleHashes: [p.css.hash] });
      } catch (err) {
        req.log.warn({ err, kioskId }, 'web: rendering the page failed; the app renders it');
      }
    }
    // Compressed here (a few kB, well under a millisecond): the assets are precompressed.
    const out = encoded(String(req.headers['accept-encoding'] ?? ''), html);
    securityHeaders(reply, pageCsp).header('cache-control', 'no-cache');
    if (out.encoding) reply.header('content-encoding', out.encoding);
    return reply
      .header('vary', 'accept-encoding, accept-language, cookie')
      .status('error' in found ? 404 : 200)
      .type('text/html; charset=utf-8')
      .send(out.body);
  });
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
