// The hub's content origin: import a tree (unicode names, nested dirs), serve signed
// manifests and blobs (Range, HEAD, ETag) to kiosks' Basic credentials and operators only,
// register the package in the rental catalog; the kiosk's own manifest check accepts it.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { registerImportedContent } from '../../../cloud-lite/content/catalog-entry.js';
import { runContentCommand } from '../../../cloud-lite/content/cli.js';
import { importContentTree } from '../../../cloud-lite/content/import-tree.js';
import { parseRange } from '../../../cloud-lite/content/range.js';
import { verifySignedManifest } from '../../../kiosk/content/manifest.js';
import { ADMIN_TOKEN, startTestHub } from '../fixtures/test-hub.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function tree(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'content-src-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files: Record<string, Buffer> = {
    'big.bin': randomBytes(300_000),
    'Música/Canción ñ.txt': Buffer.from('hola'),
    'a/b/deep.dat': randomBytes(4096),
    'empty.txt': Buffer.alloc(0),
    'same-as-deep.dat': Buffer.alloc(0),
  };
  files['same-as-deep.dat'] = files['a/b/deep.dat']!; // one blob, two paths
  for (const [p, b] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await writeFile(path.join(dir, p), b);
  }
  return { dir, files };
}

t.test('import, serve with auth, Range and HEAD; catalog entry; kiosk verifies', async (t) => {
  const hub = await startTestHub(t);
  const src = await tree(t);
  const kiosk = await hub.enrolKiosk('kiosk-content-1');
  const r = await importContentTree(
    hub.server.content,
    { source: src.dir, contentId: 'films', version: 'v1', title: 'Films' },
    hub.server.signingKey.privateKey,
  );
  t.equal(r.created, true);
  t.equal(r.newBlobs, 4, 'identical files share one blob');
  t.same(
    r.signed.manifest.files.map((f) => f.path),
    ['Música/Canción ñ.txt', 'a/b/deep.dat', 'big.bin', 'empty.txt', 'same-as-deep.dat'],
  );
  await registerImportedContent(hub.server.store, r.signed.manifest, { actor: 'test' }, new Date());
  const listed = await hub.api('GET', '/api/content', undefined, null);
  t.match(listed.body, [
    { id: 'films', title: 'Films', version: 'v1', sizeBytes: r.signed.manifest.totalBytes },
  ]);

  const basic = `Basic ${Buffer.from(`${kiosk.kioskId}:${kiosk.secret}`).toString('base64')}`;
  const get = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(hub.baseUrl + url, { method, headers });

  const m = await get('/content/films/v1/manifest.json', { authorization: basic });
  t.equal(m.status, 200);
  const doc = await m.json();
  const pub = hub.server.signingKey.publicKeyPem;
  t.same(
    verifySignedManifest(doc, pub),
    r.signed.manifest,
    "the kiosk's check accepts the hub's signature",
  );

  const big = src.files['big.bin']!;
  const url = `/blobs/sha256/${sha(big)}`;
  const full = await get(url, { authorization: basic });
  t.equal(full.status, 200);
  t.equal(full.headers.get('etag'), `"${sha(big)}"`);
  t.ok(Buffer.from(await full.arrayBuffer()).equals(big), 'whole blob');
  const part = await get(url, { authorization: basic, range: 'bytes=1000-' });
  t.equal(part.status, 206);
  t.equal(part.headers.get('content-range'), `bytes 1000-${big.length - 1}/${big.length}`);
  t.ok(Buffer.from(await part.arrayBuffer()).equals(big.subarray(1000)), 'resumed tail');
  const mid = await get(url, { authorization: basic, range: 'bytes=10-19' });
  t.ok(Buffer.from(await mid.arrayBuffer()).equals(big.subarray(10, 20)));
  const head = await get(url, { authorization: basic }, 'HEAD');
  t.equal(head.status, 200);
  t.equal(head.headers.get('content-length'), String(big.length));
  t.equal((await head.arrayBuffer()).byteLength, 0);
  const bad = await get(url, { authorization: basic, range: `bytes=${big.length}-` });
  t.equal(bad.status, 416);
  t.equal(bad.headers.get('content-range'), `bytes */${big.length}`);
  const op = await get(url, { authorization: `Bearer ${ADMIN_TOKEN}` });
  t.equal(op.status, 200, 'operators may read content');
  await op.arrayBuffer();

  t.equal((await get(url)).status, 401, 'no credentials');
  const wrong = `Basic ${Buffer.from(`${kiosk.kioskId}:nope`).toString('base64')}`;
  t.equal((await get(url, { authorization: wrong })).status, 401, 'wrong secret');
  t.equal((await get('/blobs/sha256/..%2F..%2Fhub.db', { authorization: basic })).status, 404);
  t.equal((await get(`/blobs/sha256/${'0'.repeat(64)}`, { authorization: basic })).status, 404);
  t.equal((await get('/content/..%2F/v1/manifest.json', { authorization: basic })).status, 404);
  t.equal((await get('/content/films/v2/manifest.json', { authorization: basic })).status, 404);

  // Same version again: same files -> no-op; other files -> refused.
  const again = await importContentTree(
    hub.server.content,
    { source: src.dir, contentId: 'films', version: 'v1', title: 'Films' },
    hub.server.signingKey.privateKey,
  );
  t.equal(again.created, false);
  await writeFile(path.join(src.dir, 'extra.txt'), 'x');
  await t.rejects(
    importContentTree(
      hub.server.content,
      { source: src.dir, contentId: 'films', version: 'v1', title: 'Films' },
      hub.server.signingKey.privateKey,
    ),
    { code: 'EVERSIONEXISTS' },
  );
});

t.test('import refuses links, empty trees and bad ids', async (t) => {
  const hub = await startTestHub(t);
  const src = await tree(t);
  const key = hub.server.signingKey.privateKey;
  await t.rejects(
    importContentTree(
      hub.server.content,
      { source: src.dir, contentId: '../x', version: 'v1', title: 'x' },
      key,
    ),
    { code: 'EBADID' },
  );
  const empty = await mkdtemp(path.join(os.tmpdir(), 'content-empty-'));
  t.teardown(() => rm(empty, { recursive: true, force: true }));
  await t.rejects(
    importContentTree(
      hub.server.content,
      { source: empty, contentId: 'e', version: 'v1', title: 'e' },
      key,
    ),
    { code: 'EEMPTY' },
  );
  await symlink('/etc/passwd', path.join(src.dir, 'link'));
  await t.rejects(
    importContentTree(
      hub.server.content,
      { source: src.dir, contentId: 'l', version: 'v1', title: 'l' },
      key,
    ),
    { code: 'EBADTREE' },
  );
});

t.test('cloud-lite content import (CLI) writes the package and the catalog entry', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'content-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const src = await tree(t);
  const cfg = path.join(dir, 'hub.json');
  await writeFile(
    cfg,
    JSON.stringify({
      adminToken: ADMIN_TOKEN,
      databasePath: path.join(dir, 'hub.db'),
      signingKeyPath: path.join(dir, 'key.pem'),
      content: { dir: path.join(dir, 'content') },
    }),
  );
  let out = '';
  let err = '';
  const code = await runContentCommand(
    ['import', src.dir, '--id', 'docs', '--version', '2024.1', '--title', 'Docs', '-c', cfg],
    { env: {}, out: (s) => (out += s), err: (s) => (err += s) },
  );
  t.equal(code, 0, err);
  t.match(JSON.parse(out), { contentId: 'docs', version: '2024.1', files: 5, created: true });
  const hub = await startTestHub(t, {
    databasePath: path.join(dir, 'hub.db'),
    signingKeyPath: path.join(dir, 'key.pem'),
    content: { dir: path.join(dir, 'content') },
  });
  const m = await fetch(`${hub.baseUrl}/content/docs/2024.1/manifest.json`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  t.equal(m.status, 200);
  t.same(verifySignedManifest(await m.json(), hub.server.signingKey.publicKeyPem).title, 'Docs');
  const listed = await hub.api('GET', '/api/content', undefined, null);
  t.match(listed.body, [{ id: 'docs', version: '2024.1' }]);
});

t.test('parseRange', async (t) => {
  t.same(parseRange(undefined, 10), { kind: 'full' });
  t.same(parseRange('bytes=0-', 10), { kind: 'partial', start: 0, end: 9 });
  t.same(parseRange('bytes=-3', 10), { kind: 'partial', start: 7, end: 9 });
  t.same(parseRange('bytes=2-100', 10), { kind: 'partial', start: 2, end: 9 });
  t.same(parseRange('bytes=10-', 10), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=5-2', 10), { kind: 'full' });
  t.same(parseRange('items=0-1', 10), { kind: 'full' });
  t.same(parseRange('bytes=0-1,4-5', 10), { kind: 'full' });
});
