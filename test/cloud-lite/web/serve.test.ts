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
