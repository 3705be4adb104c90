import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { readIdentity } from '../../../kiosk/cloning/identity.js';
import type { CloneError, CloneProgress } from '../../../kiosk/cloning/types.js';
import { verifyTree } from '../../../kiosk/cloning/verify.js';
import { mixedSpec } from '../../helpers/content-fixtures.js';
import { requireRoot } from '../../helpers/loop-device.js';
import { kit } from '../fixtures/kit.js';
import { keys, makeContent, makeRig } from './fixtures/rig.js';

t.test(
  'clone a mixed content set onto an exFAT loop disk; verify catches a flipped byte; read-only flag stops writes',
  async (t) => {
    if (!requireRoot(t, ['rsync'])) return;
    const k = kit(t);
    const rig = await makeRig(t, k.db, k.clock);
    const c = makeContent('mixed', '1', mixedSpec(), keys.privateKeyPem);
    await rig.addContent(c);
    const disk = await rig.addDisk(1, 64);
    const progress: CloneProgress[] = [];
    const res = await rig.pipeline.run({
      slot: 1,
      device: disk.device,
      diskId: 'disk-1',
      capacityBytes: 64 * 2 ** 20,
      manifest: c.manifest,
      writeProtect: false,
      onProgress: (p) => progress.push(p),
    });
    t.equal(res.verifiedBytes, c.manifest.totalBytes, 'every byte re-read');
    const steps = [...new Set(progress.map((p) => p.step))];
    t.same(
      steps,
      ['formatting', 'copying', 'flushing', 'verifying', 'configuring', 'done'],
      'steps in order',
    );
    const lastCopy = progress.filter((p) => p.step === 'copying').at(-1);
    t.equal(lastCopy?.bytesDone, c.manifest.totalBytes, 'copy progress reaches the total');
    t.same(rig.relay.calls.at(-1), [1, false], 'relay set as ordered (off)');

    // Mount it, check identity and content, flip one byte of one file.
    const mnt = await rig.storage.mount(disk.device, {});
    const id = await readIdentity(mnt.mountpoint);
    t.equal(id?.diskId, 'disk-1');
    t.equal(id?.contentId, 'mixed');
    t.same(id?.manifest, c.manifest, 'identity carries the manifest');
    for (const [p, b] of c.files) {
      if (p.startsWith('Música') || p.startsWith('日本語') || p.startsWith('emoji')) {
        t.same(
          await readFile(path.join(mnt.mountpoint, ...p.split('/'))),
          b,
          `unicode name ${p} intact`,
        );
      }
    }
    const hashFiles = rig.storage.hashFiles.bind(rig.storage);
    t.ok((await verifyTree(mnt.mountpoint, c.manifest, { hashFiles })).ok, 'verifies clean');
    const victim = path.join(mnt.mountpoint, 'video', 'part-1.bin');
    const fh = await open(victim, 'r+');
    const one = Buffer.alloc(1);
    await fh.read(one, 0, 1, 1_000_000);
    await fh.write(Buffer.from([(one[0] ?? 0) ^ 0x01]), 0, 1, 1_000_000);
    await fh.close();
    await writeFile(path.join(mnt.mountpoint, 'stray.txt'), 'x');
    await rig.storage.unmount(disk.device);
    await rig.storage.dropCaches(disk.device);
    const ro = await rig.storage.mount(disk.device, { readOnly: true });
    const v = await verifyTree(ro.mountpoint, c.manifest, { hashFiles });
    t.notOk(v.ok, 'the flipped byte is detected');
    t.same(v.mismatched, ['video/part-1.bin']);
    t.same(v.extra, ['stray.txt'], 'extra file reported');
    await rig.storage.unmount(disk.device);

    // Clone again, write-protected: the device refuses writes.
    await rig.pipeline.run({
      slot: 1,
      device: disk.device,
      diskId: 'disk-1',
      capacityBytes: 64 * 2 ** 20,
      manifest: c.manifest,
      writeProtect: true,
    });
    t.ok(await rig.storage.isReadOnly(disk.device), 'read-only flag set');
    t.same(rig.relay.calls.at(-1), [1, true], 'relay on');
    let err: string | undefined;
    try {
      const h = await open(disk.device, 'r+');
      try {
        await h.write(Buffer.alloc(512), 0, 512, 0);
        await h.sync();
      } finally {
        await h.close();
      }
    } catch (e) {
      err = (e as NodeJS.ErrnoException).code;
    }
    t.ok(
      err === 'EROFS' || err === 'EACCES' || err === 'EPERM',
      `writing to the device fails (${err})`,
    );
    const mountErr = (await rig.storage
      .mount(disk.device, {})
      .catch((e: { code: string }) => e)) as { code: string };
    t.equal(mountErr.code, 'EREADONLY', 'a writable mount is refused');
  },
);

t.test('a disk too small fails cleanly before touching it', async (t) => {
  if (!requireRoot(t, ['rsync'])) return;
  const k = kit(t);
  const rig = await makeRig(t, k.db, k.clock);
  const c = makeContent('big', '1', { 'a.bin': 7 * 2 ** 20 }, keys.privateKeyPem);
  await rig.addContent(c);
  const disk = await rig.addDisk(2, 8);
  const err = (await rig.pipeline
    .run({
      slot: 2,
      device: disk.device,
      diskId: 'd2',
      capacityBytes: 8 * 2 ** 20,
      manifest: c.manifest,
      writeProtect: false,
    })
    .catch((e: unknown) => e)) as CloneError;
  t.equal(err.code, 'ETOOSMALL');
  t.match(err.message, /does not fit/);
});
