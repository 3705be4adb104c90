/**
 * The worker side of block-io.ts: one job per worker, taken from `workerData`, answered
 * with progress messages and one `done` or `error`. Imports only Node built-ins (and the
 * worker starter beside it).
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parentPort, type Worker } from 'node:worker_threads';
import type {
  BlockJob,
  BlockPatch,
  BlockRange,
  FileHash,
  HashFilesJob,
  HashRangesJob,
  VerifyJob,
  VerifyMismatch,
  WorkerMessage,
  WriteJob,
} from './block-io.js';
import type { HashAnswer, HashRequest } from './hash-worker.js';
import { startWorker } from './worker-host.js';

const PAGE = 65_536;
/** The current job's cancel flag (set by the pool from the main thread). */
let aborted: Int32Array<ArrayBufferLike> = new Int32Array(1);

class Aborted extends Error {
  code = 'EABORTED';
}

const post = (m: WorkerMessage) => parentPort?.postMessage(m);
let lastProgress = 0;
function progress(bytes: number, force = false): void {
  const now = Date.now();
  if (!force && now - lastProgress < 100) return;
  lastProgress = now;
  post({ type: 'progress', bytes });
}
function checkAbort(): void {
  if (Atomics.load(aborted, 0) !== 0) throw new Aborted('cancelled');
}

/** WebAssembly.Memory (not in this project's type libraries): its buffer is page-aligned. */
const Wasm = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };
  }
).WebAssembly;

/** `count` page-aligned buffers of `bytes` each (O_DIRECT needs aligned memory). */
function alignedBuffers(count: number, bytes: number): Buffer[] {
  const size = Math.ceil(bytes / PAGE) * PAGE;
  const mem = new Wasm.Memory({ initial: (size * count) / PAGE });
  return Array.from({ length: count }, (_, i) => Buffer.from(mem.buffer, i * size, size));
}

/** The same in one SharedArrayBuffer (a shared WebAssembly.Memory), which hashers read in place. */
function sharedAlignedBuffers(count: number, bytes: number) {
  const size = Math.ceil(bytes / PAGE) * PAGE;
  const pages = (size * count) / PAGE;
  const mem = new (
    Wasm.Memory as unknown as new (d: {
      initial: number;
      maximum: number;
      shared: true;
    }) => { buffer: SharedArrayBuffer }
  )({ initial: pages, maximum: pages, shared: true });
  return {
    memory: mem.buffer,
    size,
    bufs: Array.from({ length: count }, (_, i) => Buffer.from(mem.buffer, i * size, size)),
  };
}

/**
 * This block worker's hashing threads (hash-worker.ts), started at its first write or hashing
 * job and kept for the next (they end with the block worker). SHA-256 runs there on the bytes in
 * shared memory, so neither a copy per range (WebCrypto's digest copies its input into
 * freshly faulted memory) nor libuv's thread pool (which the reads and writes of every disk
 * share, four threads by default) is spent on it, and one sequential reader is not held
 * back by one core's SHA-256 rate (a Raspberry Pi 4 has no SHA instructions).
 */
class Hashers {
  readonly #threads: { w: Worker; pending: Set<number> }[] = [];
  readonly #waiting = new Map<
    number,
    { resolve: (hex: string) => void; reject: (e: Error) => void }
  >();
  #id = 0;

  constructor(private readonly count: number) {}

  /** SHA-256 (hex) of `length` bytes at `offset` of `memory`. */
  hash(memory: SharedArrayBuffer, offset: number, length: number): Promise<string> {
    this.#start();
    const t = this.#threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = ++this.#id;
    t.pending.add(id);
    return new Promise<string>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      const req: HashRequest = { id, memory, offset, length };
      t.w.postMessage(req);
    });
  }

  /** Starts the threads now: a write does, so that the verification after it does not wait for them. */
  warm(): void {
    this.#start();
  }

  #start(): void {
    while (this.#threads.length < this.count) {
      const w = startWorker(new URL('./hash-worker.js', import.meta.url), {});
      const t = { w, pending: new Set<number>() };
      w.on('message', (a: HashAnswer) => {
        t.pending.delete(a.id);
        this.#waiting.get(a.id)?.resolve(a.sha256);
        this.#waiting.delete(a.id);
      });
      const gone = (why: string) => {
        const i = this.#threads.indexOf(t);
        if (i >= 0) this.#threads.splice(i, 1);
        for (const id of t.pending) {
          const e = new Error(`a hashing thread ${why}`) as NodeJS.ErrnoException;
          e.code = 'EWORKER';
          this.#waiting.get(id)?.reject(e);
          this.#waiting.delete(id);
        }
        t.pending.clear();
      };
      w.on('error', (err) => gone(`failed: ${err.message}`));
      w.on('exit', (code) => gone(`exited (code ${code})`));
      this.#threads.push(t);
    }
  }
}

/** Hashing threads per block worker: enough for a fast disk, not one per core on a big host. */
const hashers = new Hashers(Math.max(2, Math.min(4, availableParallelism())));

/** Splits extents into chunks of at most `chunkBytes`. */
function chunksOf(extents: readonly BlockRange[], chunkBytes: number): BlockRange[] {
  const out: BlockRange[] = [];
  for (const e of extents) {
    for (let off = 0; off < e.length; off += chunkBytes)
      out.push({ offset: e.offset + off, length: Math.min(chunkBytes, e.length - off) });
  }
  return out;
}

async function readFully(fh: FileHandle, buf: Buffer, length: number, position: number) {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  if (done < length) buf.fill(0, done, length); // past the image's end: a hole
  return length;
}

async function writeFully(fh: FileHandle, buf: Buffer, length: number, position: number) {
  let done = 0;
  while (done < length) {
    const { bytesWritten } = await fh.write(buf, done, length - done, position + done);
    if (bytesWritten <= 0) {
      const e = new Error(`short write at byte ${position + done}`) as NodeJS.ErrnoException;
      e.code = 'EIO';
      throw e;
    }
    done += bytesWritten;
  }
}

/** Overlays the patches that fall into [pos, pos + len) onto buf. */
function applyPatches(buf: Buffer, pos: number, len: number, patches: readonly BlockPatch[]) {
  for (const p of patches) {
    const from = Math.max(pos, p.offset);
    const to = Math.min(pos + len, p.offset + p.bytes.length);
    if (from >= to) continue;
    buf.set(p.bytes.subarray(from - p.offset, to - p.offset), from - pos);
  }
}

const overlaps = (r: BlockRange, patches: readonly BlockPatch[]) =>
  patches.some((p) => p.offset < r.offset + r.length && p.offset + p.bytes.length > r.offset);

/** Reads `chunks` of `fh` into alternating buffers, the next read overlapping `use`. */
async function pipeline(
  fh: FileHandle,
  chunks: readonly BlockRange[],
  chunkBytes: number,
  use: (buf: Buffer, chunk: BlockRange) => Promise<void> | void,
): Promise<void> {
  const bufs = alignedBuffers(2, chunkBytes);
  const read = (i: number) => {
    const c = chunks[i] as BlockRange;
    return readFully(fh, bufs[i % 2] as Buffer, c.length, c.offset);
  };
  let pending: Promise<unknown> | undefined = chunks.length > 0 ? read(0) : undefined;
  for (let i = 0; i < chunks.length; i++) {
    checkAbort();
    await pending;
    pending = i + 1 < chunks.length ? read(i + 1) : undefined;
    // Keep the read ahead from rejecting unobserved while `use` runs.
    pending?.catch(() => undefined);
    await use(bufs[i % 2] as Buffer, chunks[i] as BlockRange);
  }
  await pending;
}

async function write(j: WriteJob): Promise<{ bytesWritten: number }> {
  hashers.warm(); // a verification follows; starting threads costs tens of ms (more under tsx)
  const img = await open(j.image, 'r');
  let dev: FileHandle | undefined;
  try {
    dev = await open(j.device, constants.O_WRONLY | constants.O_DIRECT | constants.O_EXCL);
    const out = dev;
    let written = 0;
    await pipeline(img, chunksOf(j.extents, j.chunkBytes), j.chunkBytes, async (buf, c) => {
      applyPatches(buf, c.offset, c.length, j.patches);
      await writeFully(out, buf, c.length, c.offset);
      written += c.length;
      progress(written);
    });
    await out.datasync();
    progress(written, true);
    return { bytesWritten: written };
  } finally {
    await dev?.close().catch(() => undefined);
    await img.close().catch(() => undefined);
  }
}

/** Ranges read together in one I/O: consecutive, gaps below `gap`, at most `max` bytes. */
function unitsOf(ranges: readonly BlockRange[], gap: number, max: number) {
  const sorted = ranges.map((r, i) => ({ r, i })).sort((a, b) => a.r.offset - b.r.offset);
  const units: { offset: number; length: number; members: { r: BlockRange; i: number }[] }[] = [];
  for (const x of sorted) {
    const u = units.at(-1);
    const end = x.r.offset + x.r.length;
    if (u && x.r.offset - (u.offset + u.length) <= gap && end - u.offset <= max) {
      u.length = end - u.offset;
      u.members.push(x);
    } else {
      units.push({ offset: x.r.offset, length: x.r.length, members: [x] });
    }
  }
  return units;
}

/** Buffers of one hashing pass: reads in flight plus ranges being hashed. */
const HASH_BUFFERS = 4;
/** Reads in flight at once (sequential, so a disk sees the next request queued). */
const READS_IN_FLIGHT = 2;

/**
 * SHA-256 of each range of `fh` (with `patches` applied), read in units of whole ranges
 * (so each range is in memory at once) into shared page-aligned buffers (O_DIRECT),
 * READS_IN_FLIGHT reads ahead, while the hashing threads hash earlier units in place.
 * Resolves with the bytes hashed.
 */
async function hashRangesOf(
  fh: FileHandle,
  ranges: readonly BlockRange[],
  gap: number,
  chunkBytes: number,
  patches: readonly BlockPatch[],
  onRange: (i: number, sha256: string) => void,
  report = true,
): Promise<number> {
  const longest = ranges.reduce((m, r) => Math.max(m, r.length), 0);
  const units = unitsOf(ranges, gap, Math.max(chunkBytes, longest));
  if (units.length === 0) return 0;
  const unitBytes = units.reduce((m, u) => Math.max(m, u.length), 0);
  const { memory, size, bufs } = sharedAlignedBuffers(
    Math.min(HASH_BUFFERS, units.length),
    unitBytes,
  );
  const free = bufs.map((_, i) => i);
  const reads: { u: (typeof units)[number]; slot: number; done: Promise<number> }[] = [];
  const hashing = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  let next = 0;
  let bytes = 0;
  while (next < units.length || reads.length > 0) {
    checkAbort();
    if (failed) throw failed;
    while (next < units.length && reads.length < READS_IN_FLIGHT && free.length > 0) {
      const slot = free.shift() as number;
      const u = units[next++] as (typeof units)[number];
      const done = readFully(fh, bufs[slot] as Buffer, u.length, u.offset);
      done.catch(() => undefined); // observed below, in order
      reads.push({ u, slot, done });
    }
    const r = reads.shift();
    if (!r) {
      // Every buffer is being hashed: wait for one.
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      continue;
    }
    await r.done;
    if (patches.length > 0) applyPatches(bufs[r.slot] as Buffer, r.u.offset, r.u.length, patches);
    const base = r.slot * size - r.u.offset;
    const release = () => {
      free.push(r.slot);
      hashing.delete(h);
      wake?.();
      wake = undefined;
    };
    const h: Promise<void> = Promise.all(
      r.u.members.map(({ r: range, i }) =>
        hashers.hash(memory, base + range.offset, range.length).then((hex) => onRange(i, hex)),
      ),
    ).then(release, (err: Error) => {
      failed ??= err;
      release();
    });
    hashing.add(h);
    for (const { r: range } of r.u.members) bytes += range.length;
    if (report) progress(bytes);
  }
  await Promise.all(hashing);
  if (failed) throw failed;
  return bytes;
}

async function hashRanges(j: HashRangesJob): Promise<{ sha256: string[] }> {
  const img = await open(j.image, 'r');
  try {
    const out = new Array<string>(j.ranges.length).fill('');
    await hashRangesOf(img, j.ranges, j.gapBytes, j.chunkBytes, [], (i, h) => {
      out[i] = h;
    });
    return { sha256: out };
  } finally {
    await img.close();
  }
}

async function verify(j: VerifyJob): Promise<{ bytesRead: number; mismatched: VerifyMismatch[] }> {
  const img = await open(j.image, 'r');
  let dev: FileHandle | undefined;
  try {
    // Expected hashes: the map's, except where a patch changes the bytes on this device;
    // those are hashed from the image with the patches applied while the device is read
    // (the identity file alone is a few MiB for content of many files).
    const expected = j.ranges.map((r) => r.sha256 ?? '');
    const patched = j.ranges.map((r, i) => ({ r, i })).filter((x) => overlaps(x.r, j.patches));
    const expecting = hashRangesOf(
      img,
      patched.map((x) => x.r),
      0,
      j.chunkBytes,
      j.patches,
      (k, h) => {
        expected[(patched[k] as { i: number }).i] = h;
      },
      false,
    );
    expecting.catch(() => undefined); // awaited below
    // The expected hash of a patched range comes from the image, so the image's own bytes
    // there are checked against the map too: a byte gone bad in the image beside a patch (the
    // boot sector's, the root directory's) would otherwise be written and expected alike.
    const imageBad = new Set<number>();
    const checking = hashRangesOf(
      img,
      patched.map((x) => x.r),
      0,
      j.chunkBytes,
      [],
      (k, h) => {
        const x = patched[k] as { r: BlockRange; i: number };
        if (x.r.sha256 && h !== x.r.sha256) imageBad.add(x.i);
      },
      false,
    );
    checking.catch(() => undefined); // awaited below
    const got = new Array<string>(j.ranges.length).fill('');
    let bytesRead: number;
    try {
      dev = await open(j.device, constants.O_RDONLY | constants.O_DIRECT);
      bytesRead = await hashRangesOf(dev, j.ranges, j.gapBytes, j.chunkBytes, [], (i, h) => {
        got[i] = h;
      });
    } finally {
      await expecting.catch(() => undefined);
      await checking.catch(() => undefined);
    }
    await expecting;
    await checking;
    progress(bytesRead, true);
    const bad = got.flatMap((h, i) => (h !== expected[i] || imageBad.has(i) ? [i] : []));
    // A mismatch is the disk's fault unless the image no longer matches its own map.
    const mismatched: VerifyMismatch[] = [];
    for (const i of bad.sort((a, b) => a - b)) {
      checkAbort();
      const r = j.ranges[i] as BlockRange;
      let image: 'ok' | 'corrupt' = imageBad.has(i) ? 'corrupt' : 'ok';
      if (image === 'ok')
        await hashRangesOf(img, [r], 0, j.chunkBytes, [], (_, h) => {
          if (r.sha256 && h !== r.sha256) image = 'corrupt';
        });
      mismatched.push({ offset: r.offset, length: r.length, image });
    }
    return { bytesRead, mismatched };
  } finally {
    await dev?.close().catch(() => undefined);
    await img.close().catch(() => undefined);
  }
}

async function hashFiles(j: HashFilesJob): Promise<{ files: FileHash[] }> {
  const out = new Array<FileHash>(j.files.length);
  let next = 0;
  let bytes = 0;
  const one = async (file: string, buf: Buffer): Promise<FileHash> => {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { error: e.message, code: e.code ?? 'EIO' };
    }
    try {
      const h = createHash('sha256');
      let size = 0;
      for (;;) {
        checkAbort();
        const { bytesRead } = await fh.read(buf, 0, buf.length, size);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        size += bytesRead;
        bytes += bytesRead;
        progress(bytes);
      }
      return { sha256: h.digest('hex'), size };
    } catch (err) {
      if (err instanceof Aborted) throw err;
      const e = err as NodeJS.ErrnoException;
      return { error: e.message, code: e.code ?? 'EIO' };
    } finally {
      await fh.close().catch(() => undefined);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(j.concurrency, j.files.length) }, async () => {
      const buf = Buffer.allocUnsafe(j.chunkBytes);
      while (next < j.files.length) {
        const i = next++;
        out[i] = await one(j.files[i] as string, buf);
      }
    }),
  );
  progress(bytes, true);
  return { files: out };
}

function run(job: BlockJob): Promise<unknown> {
  switch (job.op) {
    case 'write':
      return write(job);
    case 'verify':
      return verify(job);
    case 'hash-ranges':
      return hashRanges(job);
    case 'hash-files':
      return hashFiles(job);
  }
}

// One job at a time: the pool sends the next only after this one's `done` or `error`.
parentPort?.on('message', (m: { job: BlockJob; abort: SharedArrayBuffer }) => {
  aborted = new Int32Array(m.abort);
  lastProgress = 0;
  run(m.job).then(
    (result) => post({ type: 'done', result }),
    (err: NodeJS.ErrnoException) =>
      post({ type: 'error', code: err.code ?? 'EIO', message: err.message }),
  );
});
