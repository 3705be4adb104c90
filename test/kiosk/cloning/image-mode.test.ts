// Image mode on real loop devices: the block image is built once per content version and
// capacity class, written (mapped blocks only, over a disk full of old bytes), verified
// from the device, given a fresh volume serial per disk; a flipped byte is caught and
// blamed on the disk (or on the image, which is then rebuilt); images are evicted LRU
// and rebuilt; two disks prepare at once and one failing leaves the other alone; the
// returned-disk check recognises an image-mode disk by its identity and volume serial.
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { createDiskCheckService } from '../../../kiosk/cloning/disk-check.js';
import { PER_DISK_IDENTITY_BYTES, readIdentity } from '../../../kiosk/cloning/identity.js';
import { estimatedImageBytes, imageBytesOf } from '../../../kiosk/cloning/image-store.js';
import { imagePatches } from '../../../kiosk/cloning/pipeline.js';
import type { CloneError, CloneProgress } from '../../../kiosk/cloning/types.js';
import { verifyTree } from '../../../kiosk/cloning/verify.js';
import { imageIdOf } from '../../../kiosk/content/image-index.js';
import { silentLogger } from '../../../kiosk/log.js';
import { mixedSpec } from '../../helpers/content-fixtures.js';
import { createLoopDisk, flipByte, type LoopDisk, requireRoot } from '../../helpers/loop-device.js';
import { kit } from '../fixtures/kit.js';
import { keys, makeContent, makeRig, type Rig } from './fixtures/rig.js';

const run = promisify(execFile);
const MiB = 2 ** 20;
const CLASS = 64 * MiB;
/** Image mode needs bmaptool (and tune.exfat for the serial test). */
const IMAGE_TOOLS = ['bmaptool', 'tune.exfat', 'rsync'];

/** Fills the whole device with 0xFF, as a disk that held something else. */
async function fillGarbage(device: string, bytes: number): Promise<void> {
  const fh = await open(device, 'r+');
  try {
    const buf = Buffer.alloc(4 * MiB, 0xff);
    for (let at = 0; at < bytes; at += buf.length) await fh.write(buf, 0, buf.length, at);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const job = (
  rig: Rig,
  slot: number,
  manifest: Parameters<Rig['pipeline']['run']>[0]['manifest'],
  writeProtect = false,
) => ({
  slot,
  device: (rig.disks.get(slot) as LoopDisk).device,
  diskId: `disk-${slot}`,
  capacityBytes: CLASS,
  manifest,
  writeProtect,
});

t.test(
  'image mode: built once, written over old bytes, verified, a fresh serial per disk; bmaptool copy accepts the map',
  async (t) => {
    if (!requireRoot(t, IMAGE_TOOLS)) return;
    const k = kit(t);
    const rig = await makeRig(t, k.db, k.clock, {}, { imageClasses: [CLASS] });
    const c = makeContent('mixed', '1', mixedSpec(), keys.privateKeyPem);
    await rig.addContent(c);
    const d1 = await rig.addDisk(1, 64);
    const d2 = await rig.addDisk(2, 64);
    await fillGarbage(d1.device, CLASS);
    await fillGarbage(d2.device, CLASS);
    const progress: CloneProgress[] = [];
    // The identity is a block patch: image mode mounts no disk (the image build mounts files).
    const mounted: string[] = [];
    const mount = rig.storage.mount.bind(rig.storage);
    rig.storage.mount = (device, o) => {
      mounted.push(device);
      return mount(device, o);
    };
    const r1 = await rig.pipeline.run({
      ...job(rig, 1, c.manifest),
      onProgress: (p) => progress.push(p),
    });
    const r2 = await rig.pipeline.run(job(rig, 2, c.manifest, true));
    t.equal(r1.mode, 'image', 'disk 1 written from the image');
    t.equal(r2.mode, 'image', 'disk 2 written from the image');
    t.same(mounted, [], 'neither disk was mounted to write its identity');
    t.same(
      [...new Set(progress.map((p) => p.step))],
      ['formatting', 'copying', 'verifying', 'configuring', 'done'],
      'image-mode steps in order',
    );
    const images = rig.cache.images.list();
    t.equal(images.length, 1, 'one image for the content and class');
    t.match(images[0], { contentId: 'mixed', version: '1', classBytes: CLASS, state: 'ready' });
    t.ok((images[0]?.mappedBytes ?? 0) >= c.manifest.totalBytes, 'the map covers the content');
    t.ok((images[0]?.mappedBytes ?? 0) < CLASS / 2, 'and not the whole class');

    const serials: string[] = [];
    for (const d of [d1, d2]) {
      const fsck = await rig.storage.check(d.device);
      t.ok(
        fsck.clean,
        `fsck.exfat finds ${d.device} clean: ${fsck.output.trim().split('\n').at(-1)}`,
      );
      const probe = await rig.storage.probe(d.device);
      t.equal(probe.label, 'MIXED', 'the label');
      const mnt = await rig.storage.mount(d.device, { readOnly: true });
      const id = await readIdentity(mnt.mountpoint);
      t.equal(id?.image?.volumeSerial, probe.uuid, 'the identity records the volume serial');
      t.equal(id?.image?.classBytes, CLASS);
      t.equal(id?.diskId, d === d1 ? 'disk-1' : 'disk-2', 'each disk has its own identity');
      t.equal(id?.writeProtect, d === d2, 'with its own write-protect order');
      t.equal(id?.preparedAt, (d === d1 ? r1 : r2).preparedAt, 'and its preparation time');
      const v = await verifyTree(mnt.mountpoint, c.manifest, {
        hashFiles: rig.storage.hashFiles.bind(rig.storage),
      });
      t.ok(v.ok, `every file reads back from ${d.device}`);
      await rig.storage.unmount(d.device);
      serials.push(probe.uuid ?? '');
    }
    t.not(serials[0], serials[1], 'each disk got its own volume serial');
    t.ok(await rig.storage.isReadOnly(d2.device), 'the write-protected disk is read-only');

    // An identity too long for the image's identity file: written through a mount instead.
    mounted.length = 0;
    const longId = `disk-${'x'.repeat(2 * PER_DISK_IDENTITY_BYTES)}`; // beyond the slack
    const r3 = await rig.pipeline.run({ ...job(rig, 1, c.manifest), diskId: longId });
    t.equal(r3.mode, 'image', 'still written from the image');
    t.same(mounted, [d1.device], 'the identity was written through one mount');
    const mnt = await rig.storage.mount(d1.device, { readOnly: true });
    const long = await readIdentity(mnt.mountpoint);
    await rig.storage.unmount(d1.device);
    t.equal(long?.diskId, longId, 'the long identity is on the disk');
    t.equal(long?.image?.volumeSerial, (await rig.storage.probe(d1.device)).uuid);
    t.ok((await rig.storage.check(d1.device)).clean, 'and the volume is clean');

    // The map is a valid bmap: bmaptool copy checks every range's checksum as it writes.
    const id = imageIdOf('mixed', '1', CLASS);
    const files = rig.cache.imageFiles(id);
    const d3 = await rig.addDisk(3, 64);
    const copied = await run('bmaptool', ['copy', '--bmap', files.bmap, files.image, d3.device]);
    t.match(
      copied.stderr,
      /copying time|synchronizing/i,
      'bmaptool copy accepted the image and its map',
    );
  },
);

t.test(
  'verify catches a flipped byte on the device; a bad image is discarded and rebuilt',
  async (t) => {
    if (!requireRoot(t, IMAGE_TOOLS)) return;
    const k = kit(t);
    const rig = await makeRig(t, k.db, k.clock, {}, { imageClasses: [CLASS] });
    const c = makeContent(
      'films',
      '2',
      { 'a/film.bin': 3 * MiB + 5, 'b.txt': 777 },
      keys.privateKeyPem,
    );
    await rig.addContent(c);
    const d = await rig.addDisk(1, 64);
    const img = await rig.images?.ensure(c.manifest, CLASS);
    if (!img) throw new Error('no image store');
    const io = { image: img.image, ranges: img.map.ranges };
    await rig.storage.writeImage(d.device, { ...io, imageBytes: img.imageBytes });
    t.same((await rig.storage.verifyImage(d.device, io)).mismatched, [], 'a clean write verifies');
    // A byte in the middle of the largest range (the film's data) flipped on the disk.
    const big = [...img.map.ranges].sort((a, b) => b.length - a.length)[0];
    if (!big) throw new Error('empty map');
    const at = big.offset + Math.floor(big.length / 2);
    await flipByte(d.device, at);
    const v = await rig.storage.verifyImage(d.device, io);
    t.equal(v.mismatched.length, 1, 'one range differs');
    t.match(
      v.mismatched[0],
      { offset: big.offset, length: big.length, image: 'ok' },
      'blamed on the disk',
    );

    // The identity patched in is covered too: its expected hash comes from the image and
    // the patch, so a byte flipped in the disk's identity is caught like any other.
    await rig.storage.writeImage(d.device, { ...io, imageBytes: img.imageBytes });
    const identity = {
      format: 1 as const,
      diskId: 'disk-1',
      contentId: 'films',
      contentVersion: '2',
      preparedAt: '2026-12-06T19:00:00.000Z',
      kioskId: 'k1',
      writeProtect: true,
      manifest: c.manifest,
    };
    const p = await imagePatches(img.image, 0x1234abcd, 'FILMS', identity, img.map.ranges);
    t.ok(p.identityPatched, 'the image holds an identity file to patch');
    // A map that leaves the identity's blocks out (another tool's): not patched (it would be
    // neither written nor verified), so the pipeline writes it through a mount.
    const idAt = p.patches.at(-1) as { offset: number; bytes: Uint8Array };
    const holes = img.map.ranges.filter(
      (r) => r.offset + r.length <= idAt.offset || r.offset >= idAt.offset + idAt.bytes.length,
    );
    const unmapped = await imagePatches(img.image, 0x1234abcd, 'FILMS', identity, holes);
    t.notOk(unmapped.identityPatched, 'an identity outside the map is not patched');
    t.match(unmapped.why, /does not cover its identity file/);
    const withId = { ...io, patches: p.patches };
    await rig.storage.writeImage(d.device, { ...withId, imageBytes: img.imageBytes });
    t.same((await rig.storage.verifyImage(d.device, withId)).mismatched, [], 'identity verifies');
    const idPatch = p.patches.at(-1) as { offset: number; bytes: Uint8Array };
    await flipByte(d.device, idPatch.offset + 10);
    const bad = await rig.storage.verifyImage(d.device, withId);
    t.equal(bad.mismatched.length, 1, 'a flipped byte in the identity is caught');
    t.equal(bad.mismatched[0]?.image, 'ok', 'and blamed on the disk');
    t.ok(
      (bad.mismatched[0]?.offset ?? -1) <= idPatch.offset &&
        idPatch.offset < (bad.mismatched[0]?.offset ?? 0) + (bad.mismatched[0]?.length ?? 0),
      'in the range holding the identity',
    );

    // The image file itself rots: the pipeline discards it, copies file by file, and the
    // next disk gets a rebuilt image.
    await flipByte(img.image, at);
    const r = await rig.pipeline.run(job(rig, 1, c.manifest));
    t.equal(r.mode, 'file', 'the disk was still prepared, in file mode');
    t.equal(rig.cache.images.get(img.row.imageId), undefined, 'the bad image was discarded');
    const again = await rig.pipeline.run(job(rig, 1, c.manifest));
    t.equal(again.mode, 'image', 'the image was rebuilt');
    t.equal(rig.cache.images.get(img.row.imageId)?.state, 'ready');
  },
);

t.test('images are evicted least-recently-used and rebuilt when needed', async (t) => {
  if (!requireRoot(t, IMAGE_TOOLS)) return;
  const k = kit(t);
  const a = makeContent('a', '1', { 'a.bin': 3 * MiB }, keys.privateKeyPem);
  const b = makeContent('b', '1', { 'b.bin': 3 * MiB }, keys.privateKeyPem);
  const est = estimatedImageBytes(a.manifest.files, imageBytesOf(CLASS));
  // Room for both contents' blobs and one image build, not for two images.
  const rig = await makeRig(
    t,
    k.db,
    k.clock,
    {},
    {
      imageClasses: [CLASS],
      maxBytes: 6 * MiB + est + MiB,
    },
  );
  await rig.addContent(a);
  await rig.addContent(b);
  // Reservations hold both contents (their blobs stay); images are the cache's to evict.
  rig.cache.pin('a', '1', 'res-a');
  rig.cache.pin('b', '1', 'res-b');
  await rig.addDisk(1, 64);
  const idA = imageIdOf('a', '1', CLASS);
  const idB = imageIdOf('b', '1', CLASS);
  t.equal((await rig.pipeline.run(job(rig, 1, a.manifest))).mode, 'image');
  t.equal(rig.cache.images.get(idA)?.state, 'ready', 'image A built');
  t.equal((await rig.pipeline.run(job(rig, 1, b.manifest))).mode, 'image');
  t.equal(rig.cache.images.get(idA), undefined, 'image A evicted to make room for B');
  t.equal(rig.cache.images.get(idB)?.state, 'ready', 'image B built');
  t.ok(rig.cache.usedBytes() <= 6 * MiB + est + MiB, 'the cache stays under its limit');
  t.equal((await rig.pipeline.run(job(rig, 1, a.manifest))).mode, 'image', 'A again: image mode');
  t.equal(rig.cache.images.get(idA)?.state, 'ready', 'image A rebuilt');
  t.equal(rig.cache.images.get(idB), undefined, 'image B evicted in turn');
});

t.test('two disks prepared at once: one failing leaves the other prepared', async (t) => {
  if (!requireRoot(t, IMAGE_TOOLS)) return;
  // The failing disk's backing file lies on a 2 MiB tmpfs: its writes fail past that (EIO).
  const small = await mkdtemp(path.join(os.tmpdir(), 'tiny-fs-'));
  await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small]);
  t.teardown(async () => {
    await run('umount', [small]).catch(() => run('umount', ['-l', small]));
    await rm(small, { recursive: true, force: true });
  });
  const k = kit(t);
  const rig = await makeRig(t, k.db, k.clock, { concurrency: 2 }, { imageClasses: [CLASS] });
  const c = makeContent('pair', '1', mixedSpec(), keys.privateKeyPem);
  await rig.addContent(c);
  const good = await rig.addDisk(1, 64);
  const bad = await createLoopDisk({ sizeMiB: 64, dir: small });
  rig.disks.set(2, bad);
  await rig.images?.ensure(c.manifest, CLASS); // both then write at the same time
  const [r1, r2] = await Promise.allSettled([
    rig.pipeline.run(job(rig, 1, c.manifest)),
    rig.pipeline.run(job(rig, 2, c.manifest)),
  ]);
  t.equal(r1.status, 'fulfilled', 'the good disk was prepared');
  t.equal(r1.status === 'fulfilled' && r1.value.mode, 'image');
  t.equal(r2.status, 'rejected', 'the failing disk failed');
  t.equal(
    r2.status === 'rejected' && (r2.reason as CloneError).code,
    'EIO',
    'as an I/O error (slot faults)',
  );
  const mnt = await rig.storage.mount(good.device, { readOnly: true });
  const v = await verifyTree(mnt.mountpoint, c.manifest, {
    hashFiles: rig.storage.hashFiles.bind(rig.storage),
  });
  await rig.storage.unmount(good.device);
  t.ok(v.ok, 'the good disk holds the content');
});

t.test(
  'the returned-disk check recognises an image-mode disk by identity and volume serial',
  async (t) => {
    if (!requireRoot(t, IMAGE_TOOLS)) return;
    const k = kit(t);
    const rig = await makeRig(t, k.db, k.clock, {}, { imageClasses: [CLASS] });
    const c = makeContent('ret', '1', { 'f/one.bin': 2 * MiB, 'two.txt': 100 }, keys.privateKeyPem);
    await rig.addContent(c);
    for (const slot of [1, 2]) {
      await rig.addDisk(slot, 64);
      t.equal((await rig.pipeline.run(job(rig, slot, c.manifest, true))).mode, 'image');
      k.slots.transition({
        slot,
        from: 'empty',
        to: 'returned',
        reason: 'test',
        set: { diskId: `disk-${slot}` },
        also: (d) =>
          d
            .prepare("INSERT INTO disks (disk_id, write_protected, updated_at) VALUES (?, 1, 'x')")
            .run(`disk-${slot}`),
      });
    }
    // Disk 2 is re-made with another volume serial (its files untouched).
    const d2 = rig.disks.get(2) as LoopDisk;
    await rig.storage.setReadOnly(d2.device, false);
    await run('tune.exfat', ['-I', '0x0badcafe', d2.device]);
    const checks = createDiskCheckService({
      db: k.db,
      slots: k.slots,
      clock: k.clock,
      log: silentLogger(),
      storage: rig.storage,
      relay: rig.relay,
      locateDisk: rig.locate(CLASS),
    });
    t.equal(await checks.checkReturned(1), 'ready', 'the image-mode disk verifies back to ready');
    t.equal(await checks.checkReturned(2), 'fault', 'a disk with another volume serial is refused');
    t.match(k.slots.get(2).fault, { code: 'EVERIFY', message: /volume serial is 0BAD-CAFE/ });
  },
);
