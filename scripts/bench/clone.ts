/**
 * Clone benchmark, in one run, for (a) 4 x 200 MB random files and (b) 20 000 files of
 * 4-12 KB, on loop disks (3 GiB sparse files; each disk is its own capacity class):
 *  - file mode (clone-file-mode.ts): the pipeline's rsync copy vs `cp -r`, its verify vs a
 *    plain read, through exfat-fuse;
 *  - image mode (clone-image-mode.ts): the block image's write vs `dd oflag=direct` of the
 *    same bytes, its verify vs `dd iflag=direct`, CPU seconds per GB beside dd's;
 *  - with `--disks 1,2,4`: k image-mode preparations at once vs k dd chains at once;
 * then the time to prepare 500 GB on a 120 MB/s disk, from the rates measured with the disks
 * capped and from the ratios measured here (each step's throughput as a fraction of dd's on
 * the same device, at most 1, times 120 MB/s), and the load average at start and end.
 * Every tool's exit code is checked, and the copied files and bytes are counted. Needs
 * root; every loop device is set writable when attached, and everything is undone on any
 * exit (signals and crashes included).
 * The loop devices do direct I/O to their backing files (so the "disk" is this machine's
 * disk, not its page cache); `--buffered-loop` leaves them buffered.
 *   npm run bench:clone [-- --trials 3 --processes 4 --readers 4 --disks 1,2,4 --quick]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { attachLoop, detachLoop } from '../../hal/drives/loop-device.js';
import type { SlotDisk } from '../../hal/drives/types.js';
import { exfatDiskTools, missingTools, missingToolsLine } from '../../hal/missing-tool.js';
import { RealStorage } from '../../hal/storage/real.js';
import { ImageStore } from '../../kiosk/cloning/image-store.js';
import { ClonePipeline } from '../../kiosk/cloning/pipeline.js';
import { ContentCache } from '../../kiosk/content/content-cache.js';
import {
  buildManifest,
  type ContentManifest,
  type ManifestFile,
} from '../../kiosk/content/manifest.js';
import { openDb } from '../../kiosk/db/open-db.js';
import { silentLogger } from '../../kiosk/log.js';
import { generateSigningKeyPair } from '../../protocol/index.js';
import { Cleanup, guardProcess } from '../lib/cleanup.js';
import { benchFileMode, type FileModeRow } from './clone-file-mode.js';
import {
  benchImageMode,
  benchParallel,
  type ImageModeRig,
  type ImageModeRow,
  type Measured,
  type ParallelRow,
} from './clone-image-mode.js';
import { mbps, sh, throttleDevices } from './clone-tools.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? def) : def;
};
const quick = process.argv.includes('--quick');
const TRIALS = Number(arg('trials', quick ? '1' : '3'));
const PROCESSES = Number(arg('processes', '4'));
const READERS = Number(arg('readers', '4'));
const DISKS = arg('disks', '')
  .split(',')
  .filter(Boolean)
  .map(Number)
  .filter((k) => Number.isInteger(k) && k >= 1 && k <= 8);
const DISK_BYTES = 3 * 2 ** 30;
const DIRECT = !process.argv.includes('--buffered-loop');
/** The 1-minute load average now (the machine may be shared: figures depend on it). */
const load = () => `load average ${(os.loadavg()[0] ?? 0).toFixed(1)}`;
const loadAtStart = load();
/** The disk the 500 GB estimate is for. */
const TARGET = { bytes: 500e9, rate: 120e6 };

if (process.getuid?.() !== 0) {
  console.error('bench:clone needs root (loop devices, mkfs, mount, drop_caches)');
  process.exit(2);
}
const missing = missingTools([...exfatDiskTools(), 'mount.exfat-fuse', 'rsync', 'bmaptool']);
if (missing.length > 0) {
  console.error(missingToolsLine(missing, 'bench:clone'));
  process.exit(2);
}

// A signal or a crash at any moment still unmounts, detaches and removes the work dir.
const cleanup = new Cleanup((what, err) => console.error(`cleanup: ${what}: ${err.message}`));
guardProcess(cleanup, { name: 'bench:clone' });
const work = await mkdtemp(path.join(os.tmpdir(), 'bench-clone-'));
cleanup.add('work dir', () => rm(work, { recursive: true, force: true }));

/** k loop devices over 3 GiB sparse files, writable, released by the cleanup. */
async function disks(k: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < k; i++) {
    const file = path.join(work, `disk-${i}.img`);
    await sh('truncate', ['-s', String(DISK_BYTES), file]);
    const attaching = attachLoop(file); // sets the device writable
    cleanup.add(`loop device ${i}`, async () => {
      const d = await attaching.catch(() => undefined);
      if (d) await detachLoop(d); // unmounts first
    });
    const device = await attaching;
    // Direct I/O from the loop device to its backing file: reads and writes reach the
    // machine's disk instead of ending in the page cache, for dd and the kiosk alike.
    if (DIRECT) await sh('losetup', ['--direct-io=on', device]);
    out.push(device);
  }
  return out;
}

/** Generates random files into the cache's blob store and records them as complete content. */
async function makeSet(
  cache: ContentCache,
  id: string,
  spec: { path: string; size: number }[],
): Promise<ContentManifest> {
  const files: ManifestFile[] = [];
  let n = 0;
  for (const f of spec) {
    const b = randomBytes(f.size);
    const h = createHash('sha256').update(b).digest('hex');
    const p = cache.blobPath(h);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, b);
    files.push({ path: f.path, size: f.size, sha256: h });
    if (++n % 2000 === 0 || f.size > 2 ** 20)
      process.stdout.write(`\r  generating ${id}: ${n}/${spec.length} files`);
  }
  process.stdout.write('\n');
  const m = buildManifest(id, '1', id, files);
  const now = new Date().toISOString();
  cache.index.putManifest(m, now);
  for (const f of files) cache.index.addBlob(f.sha256, f.size, now);
  cache.index.markComplete(m.contentId, m.version, now);
  return m;
}

try {
  const devices = await disks(Math.max(1, ...DISKS));
  const db = openDb({ file: path.join(work, 'kioskd.sqlite') });
  cleanup.add('database', () => db.close());
  const clock = { now: () => new Date() };
  const log = silentLogger();
  const cache = new ContentCache({
    db,
    clock,
    log,
    options: {
      cacheDir: path.join(work, 'cache'),
      hubPublicKey: generateSigningKeyPair().publicKeyPem,
      maxBytes: 2 ** 40,
    },
  });
  await cache.start();
  const slotOf = new Map(devices.map((d, i) => [d, i + 1]));
  const storage = new RealStorage({
    resolveSlotDisk: async (device) => {
      const slot = slotOf.get(device);
      return slot === undefined
        ? undefined
        : ({
            slot,
            device,
            kind: 'block',
            serial: `BENCH${slot}`,
            sizeBytes: DISK_BYTES,
            usb: true,
            removable: true,
            portPaths: [],
            mountpoints: [],
            readOnly: false,
          } satisfies SlotDisk);
    },
    mountRoot: path.join(work, 'mnt'),
  });
  cleanup.add('storage workers', () => storage.stop());
  const images = new ImageStore({
    cache,
    storage,
    clock,
    log,
    options: { classes: [DISK_BYTES], rsyncProcesses: PROCESSES, verifyReaders: READERS },
  });
  cleanup.add('image store', () => images.stop());
  const pipeline = new ClonePipeline({
    storage,
    relay: { setWriteProtect: async () => undefined },
    cache: { blobPath: (h) => cache.blobPath(h), stagingDir: cache.blobs.stagingDir },
    kioskId: 'bench',
    clock,
    log,
    images,
    options: { concurrency: devices.length, rsyncProcesses: PROCESSES, verifyReaders: READERS },
  });
  console.log(
    `targets: ${devices.length} loop disk(s) of 3 GiB (sparse files in ${os.tmpdir()}, ${DIRECT ? 'direct' : 'buffered'} I/O); ${TRIALS} trial(s), median; ${PROCESSES} rsync processes, ${READERS} verify readers`,
  );
  const big = await makeSet(
    cache,
    'large',
    Array.from({ length: 4 }, (_, i) => ({
      path: `video/part-${i}.bin`,
      size: (quick ? 50 : 200) * 10 ** 6,
    })),
  );
  const small = await makeSet(
    cache,
    'small',
    Array.from({ length: quick ? 4000 : 20_000 }, (_, i) => ({
      path: `d${Math.floor(i / 200)}/sub/f${i}.dat`,
      size: 4096 + Math.floor(Math.random() * 8192),
    })),
  );
  const target = {
    device: devices[0] as string,
    mnt: path.join(work, 'mnt', 'file-mode'),
    work,
    trials: TRIALS,
    processes: PROCESSES,
    readers: READERS,
    hashFiles: storage.hashFiles.bind(storage),
  };
  const rig: ImageModeRig = {
    storage,
    images,
    pipeline,
    devices,
    classBytes: DISK_BYTES,
    trials: TRIALS,
  };
  const sets = [big, small];
  const fileRows: FileModeRow[] = [];
  for (const m of sets) {
    console.log(`\n${m.contentId}: file mode (${load()})`);
    fileRows.push(await benchFileMode(cache.blobs, m, target));
  }
  const raw: Run = { images: [], parallel: [] };
  const usb: Run = { images: [], parallel: [] };
  for (const m of sets) {
    console.log(`\n${m.contentId}: image mode, the loop disk's own speed (${load()})`);
    raw.images.push(await benchImageMode(rig, m));
  }
  for (const k of DISKS) {
    console.log(
      `\n${k} disk(s) at once, the loop disks' own speed (${big.contentId} image; ${load()})`,
    );
    raw.parallel.push(await benchParallel(rig, big, k));
  }
  // The same again with every disk capped at a portable disk's rate.
  const unthrottle = await throttleDevices(devices, TARGET.rate);
  cleanup.add('disk throttle', unthrottle);
  for (const m of sets) {
    console.log(
      `\n${m.contentId}: image mode, disk capped at ${TARGET.rate / 1e6} MB/s (${load()})`,
    );
    usb.images.push(await benchImageMode(rig, m));
  }
  for (const k of DISKS) {
    console.log(`\n${k} disk(s) at once, each capped at ${TARGET.rate / 1e6} MB/s (${load()})`);
    usb.parallel.push(await benchParallel(rig, big, k));
  }
  await unthrottle();
  report(fileRows, raw, usb);
} finally {
  await cleanup.run();
}

interface Run {
  images: ImageModeRow[];
  parallel: ParallelRow[];
}

function report(files: FileModeRow[], raw: Run, usb: Run): void {
  const mib = (b: number, s: number) => (b / 2 ** 20 / s).toFixed(0).padStart(6);
  const x = (r: number) => `${r.toFixed(2)}x`.padStart(7);
  const perGb = (m: Measured, bytes: number) => (m.cpu / (bytes / 1e9)).toFixed(2).padStart(5);
  console.log('\nfile mode (exfat-fuse)');
  console.log('set      MiB   cp MiB/s  pipeline  ratio | read MiB/s  verify  ratio');
  for (const r of files) {
    console.log(
      `${r.set.padEnd(6)} ${(r.bytes / 2 ** 20).toFixed(0).padStart(5)}  ${mbps(r.bytes, r.cp).toFixed(1).padStart(8)}  ${mbps(r.bytes, r.pipe).toFixed(1).padStart(8)} ${x(r.cp / r.pipe)} | ${mbps(r.bytes, r.read).toFixed(1).padStart(9)}  ${mbps(r.bytes, r.verify).toFixed(1).padStart(6)} ${x(r.read / r.verify)}`,
    );
  }
  const aims: string[] = [];
  for (const [name, run] of [
    ["the loop disk's own speed", raw],
    [`a disk capped at ${TARGET.rate / 1e6} MB/s`, usb],
  ] as const) {
    console.log(`\nimage mode, ${name} (ratios against dd of the same mapped bytes, same device)`);
    console.log(
      'set    mapped MiB | dd write  image write  ratio  cpu s/GB dd/image | dd read  verify  ratio  cpu s/GB dd/image',
    );
    for (const r of run.images) {
      const M = r.mapped;
      console.log(
        `${r.set.padEnd(6)} ${(M / 2 ** 20).toFixed(0).padStart(10)} | ${mib(M, r.ddWrite.secs)}  ${mib(M, r.write.secs).padStart(11)} ${x(r.ddWrite.secs / r.write.secs)}   ${perGb(r.ddWrite, M)} / ${perGb(r.write, M)}   | ${mib(M, r.ddRead.secs)}  ${mib(M, r.verify.secs)} ${x(r.ddRead.secs / r.verify.secs)}   ${perGb(r.ddRead, M)} / ${perGb(r.verify, M)}`,
      );
    }
    const met = run.images.every(
      (r) => r.ddWrite.secs / r.write.secs >= 0.9 && r.ddRead.secs / r.verify.secs >= 0.9,
    );
    aims.push(`image write and verify >= 0.9x dd, ${name}: ${met ? 'met' : 'NOT met'}`);
    for (const r of run.images)
      console.log(
        `  ${r.set.padEnd(6)} fixed cost per job (one ${r.fixed.bytes / 1024} KiB range, worker warm): write ${ms(r.fixed.write)}, verify ${ms(r.fixed.verify)}`,
      );
    if (run.parallel.length === 0) continue;
    console.log(`k disks at once, ${name} (aggregate MiB/s, write + read of every disk)`);
    console.log(
      '  k |     dd | transfers  ratio | preparations  ratio | fixed s per preparation (preparations - transfers)',
    );
    for (const p of run.parallel) {
      const bytes = 2 * p.k * p.mapped;
      console.log(
        `${String(p.k).padStart(3)} | ${mib(bytes, p.dd)} | ${mib(bytes, p.transfers).padStart(9)} ${x(p.dd / p.transfers)} | ${mib(bytes, p.preparations).padStart(12)} ${x(p.dd / p.preparations)} | ${fixedPerPreparation(p).toFixed(2).padStart(6)}`,
      );
    }
    const ok = run.parallel.every((p) => p.dd / p.preparations >= 0.9);
    aims.push(`k parallel preparations >= 0.9x k parallel dd, ${name}: ${ok ? 'met' : 'NOT met'}`);
  }
  console.log(`\naims: ${aims.join('; ')}`);
  console.log(`(${loadAtStart} at the start, ${load()} at the end; cores: ${os.cpus().length})`);
  // 500 GB on a 120 MB/s disk. Image mode: the rates measured with the disk capped at
  // 120 MB/s. File mode: its rate on the uncapped disk, where that is below the disk's.
  const GB = TARGET.bytes / 1e9;
  console.log(`\n${GB} GB on a ${TARGET.rate / 1e6} MB/s disk, copy + verify:`);
  const min = (rate: number) => TARGET.bytes / rate / 60;
  files.forEach((f, i) => {
    const img = usb.images[i];
    if (!img) return;
    const fc = Math.min(TARGET.rate, f.bytes / f.pipe);
    const fv = Math.min(TARGET.rate, f.bytes / f.verify);
    const ic = img.mapped / img.write.secs;
    const iv = img.mapped / img.verify.secs;
    const line = (mode: string, c: number, v: number) =>
      `  ${f.set.padEnd(6)} ${mode}: ${(c / 1e6).toFixed(0)} + ${(v / 1e6).toFixed(0)} MB/s -> ${min(c).toFixed(0)} + ${min(v).toFixed(0)} = ${(min(c) + min(v)).toFixed(0)} min`;
    console.log(line('file mode ', fc, fv));
    console.log(`${line('image mode', ic, iv)}${fixedNote(img, usb.parallel[0])}`);
  });
  console.log(
    "  (file mode: its rate through exfat-fuse here, at most the disk's; image mode: measured with the disk capped)",
  );
  // The same from the ratios: each step's rate as a fraction of dd's on the same loop disk
  // (file mode against the image-mode dd figures of its set, the disk's limit), at most 1,
  // applied to the 120 MB/s disk.
  console.log(
    `${GB} GB on a ${TARGET.rate / 1e6} MB/s disk from the ratios to dd on the same loop disk (rate = ratio x ${TARGET.rate / 1e6} MB/s, ratio at most 1):`,
  );
  const fromRatios = (c: number, v: number) => {
    const [mc, mv] = [c, v].map((r) => min(TARGET.rate * Math.min(1, r)));
    return `${c.toFixed(2)}x + ${v.toFixed(2)}x -> ${(mc ?? 0).toFixed(0)} + ${(mv ?? 0).toFixed(0)} = ${((mc ?? 0) + (mv ?? 0)).toFixed(0)} min`;
  };
  files.forEach((f, i) => {
    const own = raw.images[i];
    const capped = usb.images[i];
    if (!own) return;
    const disk = (secs: number) => own.mapped / secs;
    console.log(
      `  ${f.set.padEnd(6)} file mode : ${fromRatios(f.bytes / f.pipe / disk(own.ddWrite.secs), f.bytes / f.verify / disk(own.ddRead.secs))}`,
    );
    const ratios = (r: ImageModeRow) =>
      fromRatios(r.ddWrite.secs / r.write.secs, r.ddRead.secs / r.verify.secs);
    console.log(
      `  ${f.set.padEnd(6)} image mode: ${ratios(own)} (own speed)${fixedNote(own, raw.parallel[0])}`,
    );
    // The fixed costs weigh on a run of a few hundred MiB, not on 500 GB: the same ratios
    // with each job's fixed cost (measured above) taken out of its time.
    const net = (secs: number, fixed: number) => Math.max(secs - fixed, 1e-6);
    console.log(
      `  ${f.set.padEnd(6)} image mode: ${fromRatios(own.ddWrite.secs / net(own.write.secs, own.fixed.write), own.ddRead.secs / net(own.verify.secs, own.fixed.verify))} (own speed, each job's fixed cost taken out)`,
    );
    if (capped)
      console.log(
        `  ${f.set.padEnd(6)} image mode: ${ratios(capped)} (capped)${fixedNote(capped, usb.parallel[0])}`,
      );
  });
}

/** Milliseconds, for a fixed cost. */
function ms(secs: number): string {
  return `${(secs * 1000).toFixed(1)} ms`;
}

/** Wall seconds a whole preparation took beyond its write + verify transfers (k at once). */
function fixedPerPreparation(p: ParallelRow): number {
  return p.preparations - p.transfers;
}

/** The fixed costs beside a 500 GB estimate: per job, and per preparation when measured. */
function fixedNote(r: ImageModeRow, one: ParallelRow | undefined): string {
  const prep =
    one === undefined
      ? ''
      : `, preparation ${fixedPerPreparation(one).toFixed(2)} s (k = ${one.k}, the large set)`;
  return ` + fixed: write ${ms(r.fixed.write)} + verify ${ms(r.fixed.verify)}${prep}`;
}
