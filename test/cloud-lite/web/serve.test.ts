import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import t from 'tap';
import {
  CONTENT_SECURITY_POLICY,
  MANIFEST,
  type WebManifest,
} from '../../../cloud-lite/http/routes/web-routes.js';
import { buildAssets, startWebHub, WEB_ADMIN_TOKEN } from './web-hub.js';

t.test('the renter and operator pages: CSP, no inline script, assets, refusals', async (t) => {
  const assetDir = await buildAssets(t, { compress: true });
  const m = JSON.parse(await readFile(path.join(assetDir, MANIFEST), 'utf8')) as WebManifest;
  t.match(m, {
    css: /^app-[A-Z0-9]{8}\.css$/,
    favicon: /^favicon-[0-9a-f]{8}\.svg$/,
    renter: { js: /^renter-[A-Z0-9]{8}\.js$/, preload: [/^chunk-[A-Z0-9]{8}\.js$/] },
    ops: { js: /^ops-[A-Z0-9]{8}\.js$/ },
  });
  // Each app preloads exactly the chunks its script imports statically (none is found only once
  // the script runs, a round trip later), and the two apps share their common code as a chunk.
  for (const app of ['renter', 'ops'] as const) {
    const src = await readFile(path.join(assetDir, m[app].js), 'utf8');
    const imported = [...src.matchAll(/(?:from|import)\s*"\.\/(chunk-[A-Z0-9]{8}\.js)"/g)].map(
      (x) => x[1],
    );
    t.same(
      [...new Set(imported)].sort(),
      [...m[app].preload].sort(),
      `${app}: preloads every chunk its script imports`,
    );
  }
  t.ok(
    m.renter.preload.some((c) => m.ops.preload.includes(c)),
    'the renter and operator apps share a chunk',
  );
  const hub = await startWebHub(t, { assetDir });
  const base = hub.baseUrl;

  for (const [url, entry] of [
    ['/', 'renter'],
    ['/reserve/kiosk-1', 'renter'],
    ['/orders/abc', 'renter'],
    ['/me', 'renter'],
    ['/ops', 'ops'],
    ['/ops/kiosks/k1', 'ops'],
  ] as const) {
    const res = await fetch(base + url);
    // (/k/<id> comes rendered: test/cloud-lite/http/kiosk-offer.test.ts.)
    t.equal(res.status, 200, url);
    t.match(res.headers.get('content-type'), /text\/html/);
    t.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, `${url}: CSP`);
    t.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = await res.text();
    t.match(html, `<script type="module" src="/assets/${m[entry].js}"></script>`);
    t.match(html, `<link rel="modulepreload" href="/assets/${m[entry].preload[0]}">`);
    t.match(html, `<link rel="icon" href="/assets/${m.favicon}" type="image/svg+xml">`);
    t.match(html, `<link rel="stylesheet" href="/assets/${m.css}">`);
    // Data for the app is JSON (not run); no other inline script.
    t.notMatch(
      html,
      /<script(?![^>]*\b(src=|type="application\/json"))[^>]*>/,
      `${url}: no inline script`,
    );
    t.notMatch(html, /\sstyle=|<style/, `${url}: no inline style`);
  }
  t.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
  t.notMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);

  // Hashed names cached for good; the precompressed twin the browser accepts, else plain.
  const plainJs = await readFile(path.join(assetDir, m.renter.js));
  const asset = (name: string, enc: string) =>
    fetch(`${base}/assets/${name}`, { headers: { 'accept-encoding': enc } });
  const plain = await asset(m.renter.js, 'identity');
  t.equal(plain.status, 200);
  t.match(plain.headers.get('content-type'), /javascript/);
  t.equal(plain.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  t.equal(plain.headers.get('vary'), 'accept-encoding');
  t.equal(plain.headers.get('content-encoding'), null);
  t.ok(plainJs.equals(Buffer.from(await plain.arrayBuffer())));
  // fetch() would decode the body itself: node:http shows the bytes as sent.
  const raw = async (name: string, enc: string) => {
    const http = await import('node:http');
    return new Promise<{ enc: string | undefined; body: Buffer }>((resolve, reject) => {
      http
        .get(`${base}/assets/${name}`, { headers: { 'accept-encoding': enc } }, (r) => {
          const parts: Buffer[] = [];
          r.on('data', (c: Buffer) => parts.push(c));
          r.on('end', () =>
            resolve({ enc: r.headers['content-encoding'], body: Buffer.concat(parts) }),
          );
        })
        .on('error', reject);
    });
  };
  const br = await raw(m.renter.js, 'gzip, deflate, br');
  t.equal(br.enc, 'br');
  t.ok(brotliDecompressSync(br.body).equals(plainJs), 'brotli when accepted');
  t.ok(br.body.length < plainJs.length / 2, 'and much smaller');
  const gz = await raw(m.css, 'gzip');
  t.equal(gz.enc, 'gzip');
  t.ok(gunzipSync(gz.body).equals(await readFile(path.join(assetDir, m.css))), 'else gzip');
  const icon = await fetch(`${base}/favicon.ico`, { redirect: 'manual' });
  t.equal(icon.status, 301);
  t.equal(icon.headers.get('location'), `/assets/${m.favicon}`, 'the favicon');
  t.equal(
    (await fetch(`${base}/assets/${m.favicon}`)).headers.get('content-type'),
    'image/svg+xml',
  );

  for (const bad of ['/assets/..%2Fhub.db', '/assets/hub.db', '/assets/nope.js', '/assets/.env']) {
    const res = await fetch(base + bad);
    t.equal(res.status, 404, `${bad} refused`);
  }
  const api404 = await fetch(`${base}/api/nothing-here`);
  t.equal(api404.status, 404);
  t.equal(
    ((await api404.json()) as { error: { code: string } }).error.code,
    'NOT_FOUND',
    'API 404 stays JSON',
  );
  // A browser opening an unknown page gets the renter app (its "page not found"), status 404.
  const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
  const page404 = await fetch(`${base}/no/such/page?x=1`, { headers: html });
  t.equal(page404.status, 404, 'unknown page: 404');
  t.match(page404.headers.get('content-type'), /text\/html/, 'unknown page: an HTML page');
  t.equal(page404.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  t.match(await page404.text(), `/assets/${m.renter.js}`);
  for (const still of ['/api/nothing-here', '/assets/nope.js', '/tiles/99/1/1.png']) {
    const res = await fetch(base + still, { headers: html });
    t.equal(res.status, 404, still);
    t.match(
      res.headers.get('content-type'),
      /application\/json/,
      `${still}: JSON even for a browser`,
    );
  }
  t.match(
    (await fetch(`${base}/no/such/page`)).headers.get('content-type'),
    /application\/json/,
    'a client that does not ask for HTML gets JSON',
  );
  // The map's settings and its local tiles (map.tileDir, as the tests and the demo run).
  const map = (await (await fetch(`${base}/api/map`)).json()) as Record<string, unknown>;
  t.equal(map.tileUrl, '/tiles/{z}/{x}/{y}.png');
  t.equal(map.coordSystem, 'wgs84');
  const tile = await fetch(`${base}/tiles/14/8801/5373.png`);
  t.equal(tile.status, 200, 'a local tile');
  t.equal(tile.headers.get('content-type'), 'image/png');
  t.same([...new Uint8Array(await tile.arrayBuffer()).slice(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
  for (const bad of [
    '/tiles/14/8802/5373.jpg',
    '/tiles/14/..%2F..%2Fhub.db/1.png',
    '/tiles/a/1/2.png',
  ])
    t.equal((await fetch(base + bad)).status, 404, `${bad} refused`);

  // No secret reaches the bundle: not the admin token, not the server's config.
  // No source maps: none built, none linked, none served (even one put there by hand).
  const built = (await readdir(assetDir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.relative(assetDir, path.join(e.parentPath, e.name)));
  t.notOk(
    built.some((f) => f.endsWith('.map')),
    'no .map file built',
  );
  await writeFile(path.join(assetDir, `${m.renter.js}.map`), '{"version":3,"sources":["x.tsx"]}');
  t.equal(
    (await fetch(`${base}/assets/${m.renter.js}.map`)).status,
    404,
    'a .map file is not served',
  );
  // The server renderer (ssr/, run by the hub, never served) is checked for secrets too.
  for (const f of built) {
    if (/\.(map|br|gz)$/.test(f)) continue;
    const text = await readFile(path.join(assetDir, f), 'utf8');
    t.notMatch(text, /sourceMappingURL/, `${f}: links no source map`);
    t.notOk(text.includes(WEB_ADMIN_TOKEN), `${f}: no admin token`);
    t.notMatch(text, /BEGIN (PRIVATE|EC|OPENSSH) KEY/, `${f}: no key`);
    if (!f.startsWith('ssr/')) t.notMatch(text, /process\.env/, `${f}: no environment access`);
  }
  t.ok(
    built.some((f) => /^ssr\/renter-ssr-\w+\.mjs$/.test(f)),
    'the server renderer is built',
  );
  t.equal((await fetch(`${base}/assets/${m.ssr}`)).status, 404, 'and not served');
});

t.test('before the assets are built the pages say how to build them', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'web-unbuilt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const hub = await startWebHub(t, { assetDir: path.join(dir, 'missing') });
  const res = await fetch(`${hub.baseUrl}/k/kiosk-1`);
  t.equal(res.status, 503);
  t.match(await res.text(), /npm run build:web/);
});
