// Directory-backed simulated disks: the metadata file survives concurrent writers (two
// kiosks' drive simulators sharing one disk start at the same moment).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ensureDirDisk, readDirDiskMeta, writeDirDiskMeta } from '../../../hal/drives/dir-disk.js';

t.test('concurrent writers of one disk: every write succeeds, the file stays valid', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dir-disk-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await ensureDirDisk(dir, 1000);
  const writes = Array.from({ length: 20 }, (_, i) =>
    writeDirDiskMeta(dir, {
      label: `L${i}`,
      fsType: 'exfat',
      readOnly: false,
      mountpoint: null,
      sizeBytes: 1000,
    }),
  );
  const results = await Promise.allSettled(writes);
  t.same(
    results.filter((r) => r.status === 'rejected'),
    [],
    'no write failed',
  );
  const meta = await readDirDiskMeta(dir);
  t.match(meta?.label, /^L\d+$/, 'the file holds one of the writes');
  t.same(
    (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp file left',
  );
});

t.test('two simulators creating the same blank disk at once both succeed', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dir-disk-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const both = await Promise.allSettled([ensureDirDisk(dir, 2048), ensureDirDisk(dir, 2048)]);
  t.same(
    both.map((r) => r.status),
    ['fulfilled', 'fulfilled'],
  );
  t.equal((await readDirDiskMeta(dir))?.sizeBytes, 2048);
});
