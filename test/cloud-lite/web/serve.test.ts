import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { CONTENT_SECURITY_POLICY } from '../../../cloud-lite/http/routes/web-routes.js';
import { buildAssets, startWebHub, WEB_ADMIN_TOKEN } from './web-hub.js';

t.test('the renter and operator pages: CSP, no inline script, assets, refusals', async (t) => {
  const assetDir = await buildAssets(t);
  const files = await readdir(assetDir);
  t.ok(files.includes('renter.js') && files.includes('ops.js') && files.includes('app.css'));
  const hub = await startWebHub(t, { assetDir });
  const base = hub.baseUrl;

  for (const [url, entry] of [
    ['/', 'renter'],
    ['/k/kiosk-1', 'renter'],
    ['/orders/abc', 'renter'],
    ['/me', 'renter'],
    ['/ops', 'ops'],
    ['/ops/kiosks/k1', 'ops'],
  ] as const) {
    const res = await fetch(base + url);
    t.equal(res.status, 200, url);
    t.match(res.headers.get('content-type'), /text\/html/);
    t.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, `${url}: CSP`);
    t.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = await res.text();
    t.match(html, `<script type="module" src="/assets/${entry}.js"></script>`);
    t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, `${url}: no inline script`);
    t.notMatch(html, /\sstyle=|<style/, `${url}: no inline style`);
  }
  t.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
  t.notMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);

  const js = await fetch(`${base}/assets/renter.js`);
  t.equal(js.status, 200);
  t.match(js.headers.get('content-type'), /javascript/);
  const css = await fetch(`${base}/assets/app.css`);
  t.match(css.headers.get('content-type'), /text\/css/);

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
  t.match(await page404.text(), '/assets/renter.js');
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
  t.notOk(
    (await readdir(assetDir)).some((f) => f.endsWith('.map')),
    'no .map file built',
  );
  await writeFile(path.join(assetDir, 'renter.js.map'), '{"version":3,"sources":["x.tsx"]}');
  t.equal((await fetch(`${base}/assets/renter.js.map`)).status, 404, 'a .map file is not served');
  for (const f of await readdir(assetDir)) {
    const text = await readFile(path.join(assetDir, f), 'utf8');
    if (f.endsWith('.map')) continue;
    t.notMatch(text, /sourceMappingURL/, `${f}: links no source map`);
    t.notOk(text.includes(WEB_ADMIN_TOKEN), `${f}: no admin token`);
    t.notMatch(text, /BEGIN (PRIVATE|EC|OPENSSH) KEY/, `${f}: no key`);
    t.notMatch(text, /process\.env/, `${f}: no environment access`);
  }
});

t.test('before the assets are built the pages say how to build them', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'web-unbuilt-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const hub = await startWebHub(t, { assetDir: path.join(dir, 'missing') });
  const res = await fetch(`${hub.baseUrl}/k/kiosk-1`);
  t.equal(res.status, 503);
  t.match(await res.text(), /npm run build:web/);
});
