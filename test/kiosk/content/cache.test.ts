import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ContentCache, type ContentCacheOptions } from '../../../kiosk/content/content-cache.js';
import type { ContentError } from '../../../kiosk/content/errors.js';
import { silentLogger } from '../../../kiosk/log.js';
import {
  hubKeys,
  makeContent,
  sha256,
  startOrigin,
  writeUsbStick,
} from '../../helpers/content-fixtures.js';
import { kit } from '../fixtures/kit.js';

const keys = hubKeys();

async function setup(
  t: { teardown(fn: () => unknown): void },
  opts: Partial<ContentCacheOptions> = {},
) {
  const k = kit(t);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cache-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cache = new ContentCache({
    db: k.db,
    clock: k.clock,
    log: silentLogger(),
    options: {
      cacheDir: path.join(dir, 'cache'),
      hubPublicKey: keys.publicKeyPem,
      maxBytes: 1 << 30,
      retryDelayMs: 5,
      ...opts,
    },
  });
  await cache.start();
  return { k, cache, dir };
}

t.test(
  'download: cut off mid-body, resumed with a Range into the .part, hash-checked',
  async (t) => {
    const c = makeContent(
      'film',
      '1',
      { 'big.bin': 300_000, 'small.txt': 100 },
      keys.privateKeyPem,
    );
    const origin = await startOrigin([c], { cutAfterBytes: 120_000, cutTimes: 1 });
    t.teardown(() => origin.close());
    const { cache } = await setup(t, { origin: origin.url });
    const progress: number[] = [];
    const m = await cache.ensure('film', '1', { onProgress: (p) => progress.push(p.bytesDone) });
    const big = c.manifest.files.find((f) => f.path === 'big.bin');
    const bigReqs = origin.requests.filter((r) => r.url.endsWith(big?.sha256 ?? 'x'));
    t.equal(bigReqs.length, 2, 'two requests for the cut blob');
    t.notOk(bigReqs[0]?.range, 'first without Range');
    // The origin sends 120,000 bytes then drops the connection. fetch may discard bytes it
    // had received but not yet handed over when the socket dies, so the .part holds at most
    // that much: the resume starts at what the .part holds, never at 0 nor past the cut.
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(bigReqs[1]?.range ?? '')?.[1] ?? Number.NaN);
    t.ok(
      resumedAt > 0 && resumedAt <= 120_000,
      `second resumes inside the cut part (${resumedAt})`,
    );
    for (const f of m.files) {
      const b = await readFile(cache.blobPath(f.sha256));
      t.equal(sha256(b), f.sha256, `${f.path} stored intact`);
    }
    t.equal(progress.at(-1), c.manifest.totalBytes, 'progress reaches the total');
    t.same(await readdir(cache.blobs.tmpDir), [], 'no .part left');
    t.ok(cache.complete('film', '1'));
  },
);

t.test('download: a blob with the wrong hash never enters the cache', async (t) => {
  const c = makeContent('bad', '1', { 'x.bin': 5000, 'ok.txt': 10 }, keys.privateKeyPem);
  const bad = c.manifest.files[0]?.sha256 ?? '';
  const origin = await startOrigin([c], { corrupt: new Set([bad]) });
  t.teardown(() => origin.close());
  const { cache } = await setup(t, { origin: origin.url });
  const err = (await cache.ensure('bad', '1').catch((e: unknown) => e)) as ContentError;
  t.equal(err.code, 'EHASH');
  t.equal(await stat(cache.blobPath(bad)).catch(() => 'missing'), 'missing', 'not in the store');
  t.notOk(cache.index.hasBlob(bad), 'not indexed');
  t.notOk(cache.complete('bad', '1'), 'content not complete');
  t.same(
    (await readdir(cache.blobs.tmpDir)).filter((f) => f.startsWith(bad)),
    [],
    'corrupt .part deleted',
  );
});

t.test('download: a manifest signed by another key is refused', async (t) => {
  const other = hubKeys();
  const c = makeContent('evil', '1', { 'x.bin': 10 }, other.privateKeyPem);
  const origin = await startOrigin([c]);
  t.teardown(() => origin.close());
  const { cache } = await setup(t, { origin: origin.url });
  const err = (await cache.ensure('evil', '1').catch((e: unknown) => e)) as ContentError;
  t.equal(err.code, 'ESIGNATURE');
  t.equal(origin.requests.filter((r) => r.url.startsWith('/blobs')).length, 0, 'no blob fetched');
});

t.test('LRU eviction respects pins; shared blobs survive', async (t) => {
  const shared = Buffer.alloc(1000, 7);
  const a = makeContent('a', '1', { 'a.bin': 4000, 'shared.bin': shared }, keys.privateKeyPem);
  const b = makeContent('b', '1', { 'b.bin': 4000 }, keys.privateKeyPem);
  const c = makeContent('c', '1', { 'c.bin': 4000, 'shared.bin': shared }, keys.privateKeyPem);
  const d = makeContent('d', '1', { 'd.bin': 4000 }, keys.privateKeyPem);
  const origin = await startOrigin([a, b, c, d]);
  t.teardown(() => origin.close());
  let now = Date.parse('2030-01-01T00:00:00Z');
  const { cache, k } = await setup(t, { origin: origin.url, maxBytes: 11_000 });
  (k.clock as unknown as { now: () => Date }).now = () => {
    now += 1000;
    return new Date(now);
  };
  await cache.ensure('a', '1');
  await cache.ensure('b', '1');
  cache.pin('a', '1', 'reservation-1');
  await cache.ensure('c', '1'); // 5000 + 4000 + 4000 (shared counted once) = 13000 > 11000: evicts b (a is pinned)
  t.ok(cache.complete('a', '1'), 'pinned a kept although least recently used');
  t.notOk(cache.complete('b', '1'), 'b evicted');
  t.ok(cache.complete('c', '1'));
  t.ok(cache.usedBytes() <= 11_000, `used ${cache.usedBytes()} within the limit`);
  cache.pin('c', '1', 'prestage');
  const err = (await cache.ensure('d', '1').catch((e: unknown) => e)) as ContentError;
  t.equal(err.code, 'ENOSPACE', 'everything pinned: refused, not evicted');
  t.ok(cache.complete('a', '1') && cache.complete('c', '1'), 'pinned content untouched');
  cache.unpin('reservation-1');
  await cache.ensure('d', '1');
  t.notOk(cache.complete('a', '1'), 'a evicted once unpinned');
  const sharedHash = sha256(shared);
  t.equal(
    sha256(await readFile(cache.blobPath(sharedHash))),
    sharedHash,
    'blob shared with c kept',
  );
});

t.test('technician import from a USB stick directory, hash-checked', async (t) => {
  const c = makeContent('usb', '2', { 'dir/one.bin': 3000, 'two.txt': 20 }, keys.privateKeyPem);
  const { cache, dir } = await setup(t);
  const stick = path.join(dir, 'stick');
  await writeUsbStick(stick, c);
  const m = await cache.importFromDirectory(stick);
  t.equal(m.contentId, 'usb');
  t.ok(cache.complete('usb', '2'));
  const c2 = makeContent('usb2', '1', { 'x.bin': 3000 }, keys.privateKeyPem);
  const stick2 = path.join(dir, 'stick2');
  await writeUsbStick(stick2, c2);
  await import('node:fs/promises').then((fs) =>
    fs.writeFile(path.join(stick2, 'files', 'x.bin'), Buffer.alloc(3000)),
  );
  const err = (await cache.importFromDirectory(stick2).catch((e: unknown) => e)) as ContentError;
  t.equal(err.code, 'EHASH');
  t.notOk(cache.complete('usb2', '1'));
  t.equal(
    await stat(cache.blobPath(c2.manifest.files[0]?.sha256 ?? '')).catch(() => 'missing'),
    'missing',
  );
});
