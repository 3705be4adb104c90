/**
 * bench:clone, image mode: on the same loop disk and in the same run,
 *  - write: the mapped ranges of the content's block image, sequentially with O_DIRECT
 *    (Storage.writeImage, the volume serial and label patched in) vs `dd` of the same
 *    number of bytes from the image to the device with `oflag=direct conv=fsync`;
 *  - verify: every mapped range re-read with O_DIRECT and SHA-256-checked against the map
 *    (Storage.verifyImage) vs `dd iflag=direct` of the same bytes to /dev/null, both after
 *    sync, buffer flush and drop_caches;
 * with CPU seconds per GB (user + sys: this process and its worker threads; dd's own);
 * and k parallel image-mode preparations (ClonePipeline: write, verify, identity file)
 * vs k parallel dd write + dd read chains to the same k devices.
 */
import { randomBytes } from 'node:crypto';
import { mappedBytes } from '../../hal/storage/bmap.js';
import type { RealStorage } from '../../hal/storage/real.js';
import type { ImageStore, ReadyImage } from '../../kiosk/cloning/image-store.js';
import { type ClonePipeline, imagePatches } from '../../kiosk/cloning/pipeline.js';
import type { ContentManifest } from '../../kiosk/content/manifest.js';
import { dd, dropCaches, median, timed, timedCpu } from './clone-tools.js';

export interface ImageModeRig {
  storage: RealStorage;
  images: ImageStore;
  /** Runs up to devices.length preparations at once. */
  pipeline: ClonePipeline;
  devices: string[];
  classBytes: number;
  trials: number;
}

export interface Measured {
  secs: number;
  cpu: number;
}

export interface ImageModeRow {
  set: string;
  mapped: number;
  buildSecs: number;
  ddWrite: Measured;
  write: Measured;
  ddRead: Measured;
  verify: Measured;
  /** A write and a verify job of the map's smallest range alone: each job's fixed cost. */
  fixed: FixedCost;
}

/** Seconds of a write and a verify job of one small range (the worker warm), medians. */
export interface FixedCost {
  bytes: number;
  write: number;
  verify: number;
}

const BS = 4 * 2 ** 20;

const ddWrite = (image: string, device: string, bytes: number) =>
  dd(
    [
      `if=${image}`,
      `of=${device}`,
      `bs=${BS}`,
      `count=${bytes}`,
      'iflag=count_bytes,fullblock',
      'oflag=direct',
      'conv=fsync',
    ],
    bytes,
  );

const ddRead = (device: string, bytes: number) =>
  dd(
    [`if=${device}`, 'of=/dev/null', `bs=${BS}`, `count=${bytes}`, 'iflag=direct,count_bytes'],
    bytes,
  );

const med = (xs: Measured[]): Measured => ({
  secs: median(xs.map((x) => x.secs)),
  cpu: median(xs.map((x) => x.cpu)),
});

async function ioOf(img: ReadyImage) {
  const { patches } = await imagePatches(img.image, randomBytes(4).readUInt32LE(0), 'BENCH');
  return { image: img.image, ranges: img.map.ranges, patches };
}

/** Write and verify of one content set's image vs dd, `trials` times (medians). */
export async function benchImageMode(rig: ImageModeRig, m: ContentManifest): Promise<ImageModeRow> {
  const device = rig.devices[0] as string;
  const built = await timed(() => rig.images.ensure(m, rig.classBytes));
  const img = built.result;
  const M = mappedBytes(img.map);
  console.log(
    `  ${m.contentId}: image built in ${built.secs.toFixed(1)} s (${img.row.clusterBytes / 1024} KiB clusters, ${(M / 2 ** 20).toFixed(0)} MiB mapped in ${img.map.ranges.length} ranges)`,
  );
  const io = await ioOf(img);
  const rows: Record<'ddWrite' | 'write' | 'ddRead' | 'verify', Measured[]> = {
    ddWrite: [],
    write: [],
    ddRead: [],
    verify: [],
  };
  const say = (what: string, x: Measured) =>
    console.log(
      `  ${m.contentId} ${what.padEnd(14)} ${x.secs.toFixed(2)} s  ${(M / 2 ** 20 / x.secs).toFixed(0).padStart(5)} MiB/s  cpu ${(x.cpu / (M / 1e9)).toFixed(2)} s/GB`,
    );
  for (let i = 1; i <= rig.trials; i++) {
    await dropCaches(device);
    const w0 = await ddWrite(img.image, device, M);
    say('dd write', w0);
    const w = await timedCpu(() =>
      rig.storage.writeImage(device, { ...io, imageBytes: img.imageBytes }),
    );
    say('image write', w);
    await dropCaches(device);
    const r0 = await ddRead(device, M);
    say('dd read', r0);
    await dropCaches(device);
    const v = await timedCpu(() => rig.storage.verifyImage(device, io));
    if (v.result.mismatched.length > 0 || v.result.bytesRead !== M)
      throw new Error(
        `verify of an intact write failed: ${v.result.mismatched.length} ranges, ${v.result.bytesRead} of ${M} bytes`,
      );
    say('image verify', v);
    rows.ddWrite.push(w0);
    rows.write.push(w);
    rows.ddRead.push(r0);
    rows.verify.push(v);
  }
  const fixed = await fixedCost(rig, device, img, io);
  console.log(
    `  ${m.contentId} fixed cost per job (one ${fixed.bytes / 1024} KiB range): write ${(fixed.write * 1000).toFixed(1)} ms, verify ${(fixed.verify * 1000).toFixed(1)} ms`,
  );
  return {
    fixed,
    set: m.contentId,
    mapped: M,
    buildSecs: built.secs,
    ddWrite: med(rows.ddWrite),
    write: med(rows.write),
    ddRead: med(rows.ddRead),
    verify: med(rows.verify),
  };
}

/**
 * What a write and a verify job cost beyond their bytes: the same jobs for the map's
 * smallest range alone (the slot-disk check, opening the device and the image, the worker's
 * round trip, one read and hash), `trials` times after a warm-up, caches dropped, medians.
 */
async function fixedCost(
  rig: ImageModeRig,
  device: string,
  img: ReadyImage,
  io: Awaited<ReturnType<typeof ioOf>>,
): Promise<FixedCost> {
  const smallest = [...img.map.ranges].sort((a, b) => a.length - b.length)[0];
  if (!smallest) throw new Error('the image has an empty map');
  const one = { ...io, ranges: [smallest] };
  const w: number[] = [];
  const v: number[] = [];
  for (let i = 0; i <= rig.trials; i++) {
    await dropCaches(device);
    const wt = await timed(() =>
      rig.storage.writeImage(device, { ...one, imageBytes: img.imageBytes }),
    );
    await dropCaches(device);
    const vt = await timed(() => rig.storage.verifyImage(device, one));
    if (vt.result.mismatched.length > 0) throw new Error('verify of one range failed');
    if (i === 0) continue; // warm-up
    w.push(wt.secs);
    v.push(vt.secs);
  }
  // The device holds only that range of this image now: the next step writes it whole.
  return { bytes: smallest.length, write: median(w), verify: median(v) };
}

export interface ParallelRow {
  k: number;
  mapped: number;
  /** k chains of dd write + dd read. */
  dd: number;
  /** k write + verify transfers (Storage.writeImage + verifyImage). */
  transfers: number;
  /** k whole preparations (ClonePipeline.run: write, verify, identity file, flags). */
  preparations: number;
}

/** k disks at once, image mode vs dd; the image is built already. */
export async function benchParallel(
  rig: ImageModeRig,
  m: ContentManifest,
  k: number,
): Promise<ParallelRow> {
  const img = await rig.images.ensure(m, rig.classBytes);
  const M = mappedBytes(img.map);
  const io = await ioOf(img);
  const devices = rig.devices.slice(0, k);
  const times: Record<'dd' | 'transfers' | 'preparations', number[]> = {
    dd: [],
    transfers: [],
    preparations: [],
  };
  const all = async (fn: (device: string, i: number) => Promise<unknown>) => {
    for (const d of devices) await dropCaches(d);
    return (await timed(() => Promise.all(devices.map(fn)))).secs;
  };
  for (let t = 1; t <= rig.trials; t++) {
    times.dd.push(
      await all(async (d) => {
        await ddWrite(img.image, d, M);
        await ddRead(d, M);
      }),
    );
    times.transfers.push(
      await all(async (d) => {
        await rig.storage.writeImage(d, { ...io, imageBytes: img.imageBytes });
        const v = await rig.storage.verifyImage(d, io);
        if (v.mismatched.length > 0) throw new Error(`verify failed on ${d}`);
      }),
    );
    times.preparations.push(
      await all(async (d, i) => {
        const r = await rig.pipeline.run({
          slot: i + 1,
          device: d,
          diskId: `bench-${i + 1}`,
          capacityBytes: rig.classBytes,
          manifest: m,
          writeProtect: false,
        });
        if (r.mode !== 'image') throw new Error(`disk ${d} was prepared in ${r.mode} mode`);
      }),
    );
    const agg = (secs: number) => ((2 * k * M) / 2 ** 20 / secs).toFixed(0).padStart(5);
    console.log(
      `  ${k} disk(s) trial ${t}: dd ${agg(times.dd.at(-1) ?? 0)} MiB/s  image transfers ${agg(times.transfers.at(-1) ?? 0)} MiB/s  preparations ${agg(times.preparations.at(-1) ?? 0)} MiB/s (aggregate, write + read)`,
    );
  }
  return {
    k,
    mapped: M,
    dd: median(times.dd),
    transfers: median(times.transfers),
    preparations: median(times.preparations),
  };
}
