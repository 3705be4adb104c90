/**
 * Clone benchmark: on one exFAT loop disk (exfat-fuse), in one run,
 *  - copy: the pipeline's copy step (staging view of hard links into the content-addressed
 *    store, N parallel rsync processes) vs plain `cp -r` of the same tree, each timed
 *    from the start of the copy to the end of the unmount (so the flush is included);
 *  - verify: the pipeline's verify (parallel readers, SHA-256) vs a plain sequential read
 *    of the same files, both after unmount, buffer-cache flush, drop_caches and a fresh mount;
 * for (a) 4 x 200 MB random files and (b) 20 000 files of 4-12 KB.
 * Every tool's exit code is checked, and the copied files and bytes are counted.
 * Needs root. Sparse files stay under ~4.5 GB; everything is removed at the end.
 *   npm run bench:clone [-- --trials 3 --processes 4 --quick]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { attachLoop, detachLoop } from '../../hal/drives/loop-device.js';
import { exfatDiskTools, missingTools, missingToolsLine } from '../../hal/missing-tool.js';
import { BlockWorkers } from '../../hal/storage/block-io.js';
import { rsyncCopy } from '../../kiosk/cloning/rsync-copy.js';
import { buildStaging } from '../../kiosk/cloning/staging.js';
import { verifyTree } from '../../kiosk/cloning/verify.js';
import { BlobStore } from '../../kiosk/content/blob-store.js';
import {
  buildManifest,
  type ContentManifest,
  type ManifestFile,
} from '../../kiosk/content/manifest.js';
import { Cleanup, guardProcess } from '../lib/cleanup.js';
import { dropCaches, mbps, median, sequentialRead, sh, timed, treeSize } from './clone-tools.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const quick = process.argv.includes('--quick');
const TRIALS = arg('trials', quick ? 1 : 3);
const PROCESSES = arg('processes', 4);
const READERS = arg('readers', 4);

if (process.getuid?.() !== 0) {
  console.error('bench:clone needs root (loop devices, mkfs, mount, drop_caches)');
  process.exit(2);
}
const missing = missingTools([...exfatDiskTools(), 'mount.exfat-fuse', 'rsync']);
if (missing.length > 0) {
  console.error(missingToolsLine(missing, 'bench:clone'));
  process.exit(2);
}

// A signal or a crash at any moment still unmounts, detaches and removes the work dir.
const cleanup = new Cleanup((what, err) => console.error(`cleanup: ${what}: ${err.message}`));
guardProcess(cleanup, { name: 'bench:clone' });
const work = await mkdtemp(path.join(os.tmpdir(), 'bench-clone-'));
cleanup.add('work dir', () => rm(work, { recursive: true, force: true }));
const mnt = path.join(work, 'mnt');
let device = '';
const workers = new BlockWorkers();
cleanup.add('hash workers', () => workers.close());

async function makeSet(
  store: BlobStore,
  id: string,
  spec: { path: string; size: number }[],
): Promise<ContentManifest> {
  const files: ManifestFile[] = [];
  let n = 0;
  for (const f of spec) {
    const b = randomBytes(f.size);
    const h = createHash('sha256').update(b).digest('hex');
    const p = store.blobPath(h);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, b);
    files.push({ path: f.path, size: f.size, sha256: h });
    if (++n % 2000 === 0 || f.size > 2 ** 20)
      process.stdout.write(`\r  generating ${id}: ${n}/${spec.length} files`);
  }
  process.stdout.write('\n');
  return buildManifest(id, '1', id, files);
}

async function freshMount(): Promise<void> {
  await sh('mkfs.exfat', ['-L', 'BENCH', device]);
  await mkdir(mnt, { recursive: true });
  await sh('mount.exfat-fuse', ['-o', 'noatime', device, mnt]);
}

async function checkCopied(dir: string, m: ContentManifest, what: string): Promise<void> {
  const s = await treeSize(dir);
  if (s.files !== m.files.length || s.bytes !== m.totalBytes) {
    throw new Error(
      `${what}: copied ${s.files} files / ${s.bytes} bytes, expected ${m.files.length} / ${m.totalBytes}`,
    );
  }
}

interface Row {
  set: string;
  cp: number;
  pipe: number;
  read: number;
  verify: number;
  bytes: number;
}

async function benchSet(store: BlobStore, m: ContentManifest): Promise<Row> {
  const staging = await buildStaging(store.stagingDir, m, (h) => store.blobPath(h));
  const warm = () => sequentialRead(staging.root);
  const cpTimes: number[] = [];
  const pipeTimes: number[] = [];
  for (let i = 1; i <= TRIALS; i++) {
    for (const mode of ['cp', 'pipeline'] as const) {
      await freshMount();
      await dropCaches(device);
      await warm(); // both read the source from the page cache
      const { secs } = await timed(async () => {
        if (mode === 'cp') {
          await sh('cp', ['-r', staging.root, path.join(mnt, 'x')]);
        } else {
          await mkdir(path.join(mnt, 'x'));
          let last = 0;
          await rsyncCopy({
            source: staging.root,
            target: path.join(mnt, 'x'),
            files: m.files,
            processes: PROCESSES,
            listDir: work,
            onProgress: (b) => {
              const pct = Math.floor((b / m.totalBytes) * 100);
              if (pct >= last + 10) {
                last = pct;
                process.stdout.write(`\r    pipeline copy ${pct}%   `);
              }
            },
          });
        }
        await sh('umount', [mnt]); // flush included
      });
      await sh('mount.exfat-fuse', ['-o', 'ro', device, mnt]);
      await checkCopied(path.join(mnt, 'x'), m, `${m.contentId} ${mode}`);
      await sh('umount', [mnt]);
      (mode === 'cp' ? cpTimes : pipeTimes).push(secs);
      process.stdout.write(
        `\r  ${m.contentId} trial ${i}: ${mode.padEnd(8)} ${secs.toFixed(2)} s  (${mbps(m.totalBytes, secs).toFixed(1)} MB/s)\n`,
      );
    }
  }
  // Verify vs plain read, from the disk: unmount, flush buffers, drop caches, mount.
  const readTimes: number[] = [];
  const verifyTimes: number[] = [];
  for (let i = 1; i <= TRIALS; i++) {
    for (const mode of ['read', 'verify'] as const) {
      await dropCaches(device);
      await sh('mount.exfat-fuse', ['-o', 'ro', device, mnt]);
      const root = path.join(mnt, 'x');
      const { secs, result } = await timed(async () => {
        if (mode === 'read') return sequentialRead(root);
        const v = await verifyTree(root, m, {
          readers: READERS,
          hashFiles: (f, o) => workers.hashFiles(f, o),
        });
        if (!v.ok)
          throw new Error(`verify failed on an intact copy: ${JSON.stringify(v).slice(0, 300)}`);
        return v.bytesRead;
      });
      await sh('umount', [mnt]);
      if (result !== m.totalBytes)
        throw new Error(`${mode} read ${result} bytes, expected ${m.totalBytes}`);
      (mode === 'read' ? readTimes : verifyTimes).push(secs);
      process.stdout.write(
        `  ${m.contentId} trial ${i}: ${mode.padEnd(8)} ${secs.toFixed(2)} s  (${mbps(m.totalBytes, secs).toFixed(1)} MB/s)\n`,
      );
    }
  }
  await staging.remove();
  return {
    set: m.contentId,
    cp: median(cpTimes),
    pipe: median(pipeTimes),
    read: median(readTimes),
    verify: median(verifyTimes),
    bytes: m.totalBytes,
  };
}

try {
  const store = new BlobStore(path.join(work, 'cache'));
  await store.init();
  const img = path.join(work, 'target.img');
  await sh('truncate', ['-s', '3G', img]);
  const attaching = attachLoop(img);
  cleanup.add('loop device', async () => {
    await sh('umount', [mnt]).catch(() => undefined);
    const d = await attaching.catch(() => undefined);
    if (d) await detachLoop(d);
  });
  device = await attaching;
  console.log(
    `target: exFAT (exfat-fuse) on ${device} (3 GiB sparse file); ${TRIALS} trial(s), median; ${PROCESSES} rsync processes, ${READERS} verify readers`,
  );
  const big = await makeSet(
    store,
    'large',
    Array.from({ length: 4 }, (_, i) => ({
      path: `video/part-${i}.bin`,
      size: (quick ? 50 : 200) * 10 ** 6,
    })),
  );
  const small = await makeSet(
    store,
    'small',
    Array.from({ length: quick ? 4000 : 20_000 }, (_, i) => ({
      path: `d${Math.floor(i / 200)}/sub/f${i}.dat`,
      size: 4096 + Math.floor(Math.random() * 8192),
    })),
  );
  const rows = [await benchSet(store, big), await benchSet(store, small)];
  console.log(
    '\nset     MB      cp MB/s  pipeline MB/s  copy ratio  | read MB/s  verify MB/s  verify ratio',
  );
  for (const r of rows) {
    const mb = r.bytes / 2 ** 20;
    console.log(
      `${r.set.padEnd(7)} ${mb.toFixed(0).padStart(5)}  ${mbps(r.bytes, r.cp).toFixed(1).padStart(8)}  ${mbps(r.bytes, r.pipe).toFixed(1).padStart(13)}  ${(r.cp / r.pipe).toFixed(2).padStart(9)}x  | ${mbps(r.bytes, r.read).toFixed(1).padStart(9)}  ${mbps(r.bytes, r.verify).toFixed(1).padStart(11)}  ${(r.read / r.verify).toFixed(2).padStart(11)}x`,
    );
  }
  const aims = [
    rows[0] && rows[0].cp / rows[0].pipe >= 0.9,
    rows[1] && rows[1].cp / rows[1].pipe >= 0.7,
    rows.every((r) => r.read / r.verify >= 0.8),
  ];
  console.log(
    `aims: copy large >= 0.9x cp: ${aims[0] ? 'met' : 'NOT met'}; copy small >= 0.7x cp: ${aims[1] ? 'met' : 'NOT met'}; verify >= 0.8x read: ${aims[2] ? 'met' : 'NOT met'}`,
  );
} finally {
  await cleanup.run();
}
