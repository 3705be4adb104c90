// The block I/O workers' verification on a real loop device: ranges read into a ring of
// shared buffers with reads ahead and hashed in place by the hashing threads. More units
// than buffers, several ranges per unit and a patched range exercise the ring; a byte
// flipped on the device is found in exactly its range and blamed on the disk; a byte gone bad
// in the image beside a patch is blamed on the image.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { type BlockRange, BlockWorkers } from '../../../hal/storage/block-io.js';
import { createLoopDisk, flipByte, requireRoot } from '../../helpers/loop-device.js';

const MiB = 2 ** 20;

t.test('verify reads ahead into shared buffers and catches one flipped byte', async (t) => {
  if (!requireRoot(t)) return;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'block-io-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const disk = await createLoopDisk({ sizeMiB: 48, t });
  const workers = new BlockWorkers(2);
  t.teardown(() => workers.close());

  // An "image": 40 MiB of random bytes; 20 mapped ranges of 1.5 MiB, 2 MiB apart.
  const image = path.join(dir, 'image.img');
  const bytes = randomBytes(40 * MiB);
  await writeFile(image, bytes);
  const ranges: BlockRange[] = Array.from({ length: 20 }, (_, i) => {
    const r = { offset: i * 2 * MiB, length: 1.5 * MiB };
    const sha256 = createHash('sha256')
      .update(bytes.subarray(r.offset, r.offset + r.length))
      .digest('hex');
    return { ...r, sha256 };
  });
  // One per-disk patch inside range 3 (as the volume serial is): written and expected.
  const patch = { offset: 3 * 2 * MiB + 4096, bytes: Buffer.from('PATCHED!') };
  const patches = [patch];
  await workers.run({
    op: 'write',
    device: disk.device,
    image,
    extents: ranges.map((r) => ({ offset: r.offset, length: r.length })),
    patches,
    chunkBytes: 4 * MiB,
  });
  // 4 MiB units of two ranges each (the 0.5 MiB gaps read and skipped): 10 units through
  // a ring of 4 buffers.
  const verify = () =>
    workers.run({
      op: 'verify',
      device: disk.device,
      image,
      ranges,
      patches,
      gapBytes: MiB,
      chunkBytes: 4 * MiB,
    });
  const clean = await verify();
  t.same(clean.mismatched, [], 'a clean write verifies, the patched range included');
  t.equal(clean.bytesRead, 20 * 1.5 * MiB, 'every mapped byte was read');

  const hashed = await workers.run({
    op: 'hash-ranges',
    image,
    ranges,
    gapBytes: MiB,
    chunkBytes: 4 * MiB,
  });
  t.same(
    hashed.sha256,
    ranges.map((r) => r.sha256),
    "hash-ranges gives each range's SHA-256",
  );

  // One byte flipped on the device, in range 17 (the ninth unit).
  const at = 17 * 2 * MiB + 12345;
  await flipByte(disk.device, at);
  const bad = await verify();
  t.same(
    bad.mismatched,
    [{ offset: 17 * 2 * MiB, length: 1.5 * MiB, image: 'ok' }],
    'exactly the range with the flipped byte differs, blamed on the disk',
  );

  // A byte gone bad in the image itself beside the patch (range 3): what is written from the
  // image is what is expected from it, so only the map's hash can tell; it blames the image.
  const fresh = await mkdtemp(path.join(os.tmpdir(), 'block-io-'));
  t.teardown(() => rm(fresh, { recursive: true, force: true }));
  const rotten = path.join(fresh, 'image.img');
  const copy = Buffer.from(bytes);
  copy[3 * 2 * MiB + 100] = (copy[3 * 2 * MiB + 100] as number) ^ 0xff;
  await writeFile(rotten, copy);
  await workers.run({
    op: 'write',
    device: disk.device,
    image: rotten,
    extents: ranges.map((r) => ({ offset: r.offset, length: r.length })),
    patches,
    chunkBytes: 4 * MiB,
  });
  const fromRotten = await workers.run({
    op: 'verify',
    device: disk.device,
    image: rotten,
    ranges,
    patches,
    gapBytes: MiB,
    chunkBytes: 4 * MiB,
  });
  t.same(
    fromRotten.mismatched,
    [{ offset: 3 * 2 * MiB, length: 1.5 * MiB, image: 'corrupt' }],
    "a patched range whose image bytes no longer match the map is the image's fault",
  );
});
