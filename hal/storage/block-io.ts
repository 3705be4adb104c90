/**
 * Bulk disk I/O in worker threads, so that neither the copying nor the SHA-256 of a
 * preparation runs on kioskd's main thread (a Dispense is never queued behind a hash):
 *
 *  - `write`:  the mapped ranges of a block image, coalesced into long extents, read from
 *              the image file and written sequentially to the device with O_DIRECT, with
 *              per-disk patches (volume serial, label) applied on the way; then fdatasync.
 *  - `verify`: the mapped ranges re-read from the device with O_DIRECT (the page cache is
 *              bypassed, so the bytes come from the medium) in long sequential reads, two
 *              in flight, into a ring of buffers in shared memory, and each range's SHA-256
 *              (computed in place by the worker's hashing threads, hash-worker.ts, several
 *              at once: one sequential reader is not held back by one core's SHA-256 rate,
 *              and a Raspberry Pi 4 has no SHA instructions) compared with the map's; a
 *              mismatching range is then checked against the image file, which tells a bad
 *              disk from a bad image.
 *  - `hash-files`: SHA-256 of whole files (the file-mode verification through a mount).
 *
 * O_DIRECT needs page-aligned memory, which Node's Buffers do not promise; the worker
 * takes its buffers from a WebAssembly.Memory, whose backing store is page-aligned (a
 * shared one for hashing, so the hashing threads read the bytes where they were read to).
 * Reads of the next chunk overlap the write (or the hashing) of the current one.
 * Cancel with the AbortSignal: the worker stops between chunks and the job rejects with
 * `EABORTED` (a write is then incomplete: the disk must be prepared again).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import {
  type BlockPatch,
  type BlockRange,
  type FileHash,
  StorageError,
  type StorageErrorCode,
  type VerifyMismatch,
} from './types.js';
import { startWorker } from './worker-host.js';

export type { BlockPatch, BlockRange, FileHash, VerifyMismatch };

export interface WriteJob {
  op: 'write';
  device: string;
  image: string;
  extents: BlockRange[];
  patches: BlockPatch[];
  chunkBytes: number;
}

export interface VerifyJob {
  op: 'verify';
  device: string;
  image: string;
  /** The map's ranges with their hashes. */
  ranges: BlockRange[];
  patches: BlockPatch[];
  /** Ranges closer than this are read in one I/O (the gap read and skipped). */
  gapBytes: number;
  /** Longest read (a range longer than this is read whole). */
  chunkBytes: number;
}

export interface HashFilesJob {
  op: 'hash-files';
  files: string[];
  /** Files read at once by this worker. */
  concurrency: number;
  chunkBytes: number;
}

export interface HashRangesJob {
  op: 'hash-ranges';
  image: string;
  ranges: BlockRange[];
  gapBytes: number;
  chunkBytes: number;
}

export type BlockJob = WriteJob | VerifyJob | HashFilesJob | HashRangesJob;

export interface WriteResult {
  bytesWritten: number;
}
export interface VerifyResult {
  bytesRead: number;
  mismatched: VerifyMismatch[];
}
export interface HashFilesResult {
  files: FileHash[];
}
export interface HashRangesResult {
  sha256: string[];
}

type ResultOf<J extends BlockJob> = J extends WriteJob
  ? WriteResult
  : J extends VerifyJob
    ? VerifyResult
    : J extends HashFilesJob
      ? HashFilesResult
      : HashRangesResult;

/** Messages from the worker. */
export type WorkerMessage =
  | { type: 'progress'; bytes: number }
  | { type: 'done'; result: unknown }
  | { type: 'error'; code: string; message: string };

export interface BlockJobOptions {
  signal?: AbortSignal | undefined;
  /** Bytes done so far (throttled by the worker to about 10 per second). */
  onProgress?: ((bytes: number) => void) | undefined;
}

export const DEFAULT_CHUNK_BYTES = 8 * 2 ** 20;

/** Errno codes that mean the medium failed (as opposed to a bad argument or a missing file). */
const IO_CODES = new Set(['EIO', 'ENOSPC', 'EROFS', 'EPERM', 'EACCES', 'EBUSY', 'ENXIO']);

/**
 * A pool of block I/O worker threads, started on demand (up to `max` at once) and kept
 * idle between jobs (unref'd: an idle pool does not keep the process alive; starting a
 * worker costs tens of milliseconds, more under tsx). Owned by a storage driver; close()
 * terminates the workers.
 */
export class BlockWorkers {
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();
  readonly #waiting: Array<(w: Worker) => void> = [];
  #closed = false;

  constructor(private readonly max = 8) {}

  /**
   * Runs one job. Resolves with its result; rejects with StorageError: `EABORTED`
   * (signal), `EDISCONNECTED` (the device vanished: ENOENT/ENODEV/ENXIO on it), `EIO` (the
   * device or the image reported an error: its errno in the message), `EBUSY` (the device
   * is open exclusively elsewhere, e.g. mounted), `EINVAL` (a bad job or a missing file).
   * No timeout of its own: as long as the disk takes.
   */
  async run<J extends BlockJob>(job: J, opts: BlockJobOptions = {}): Promise<ResultOf<J>> {
    if (opts.signal?.aborted)
      throw new StorageError('EABORTED', `${describe(job)} cancelled before it started`);
    const worker = await this.#take();
    const abort = new SharedArrayBuffer(4);
    const flag = new Int32Array(abort);
    const onAbort = () => Atomics.store(flag, 0, 1);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await new Promise<ResultOf<J>>((resolve, reject) => {
        const cleanup = () => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
        };
        const onMessage = (m: WorkerMessage) => {
          if (m.type === 'progress') {
            opts.onProgress?.(m.bytes);
            return;
          }
          cleanup();
          if (m.type === 'done') resolve(m.result as ResultOf<J>);
          else reject(errorOf(job, m.code, m.message));
          this.#give(worker);
        };
        const onError = (err: Error) => {
          cleanup();
          this.#drop(worker);
          reject(errorOf(job, 'EWORKER', err.message));
        };
        const onExit = (code: number) => {
          cleanup();
          this.#drop(worker);
          reject(errorOf(job, 'EWORKER', `the worker exited (code ${code}) without a result`));
        };
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
        worker.postMessage({ job, abort });
      });
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * SHA-256 of whole files in up to `workers` workers (each reading `concurrency` files
   * at once), in the order given. A file that cannot be read gets `{ error, code }`.
   */
  async hashFiles(
    files: readonly string[],
    opts: BlockJobOptions & {
      workers?: number;
      concurrency?: number;
      sizes?: readonly number[];
    } = {},
  ): Promise<FileHash[]> {
    const n = Math.max(1, Math.min(opts.workers ?? 2, availableParallelism(), files.length));
    // Byte-balanced lists (largest first onto the lightest), remembering each file's index.
    const lists: { w: number; idx: number[] }[] = Array.from({ length: n }, () => ({
      w: 0,
      idx: [],
    }));
    const order = files.map((_, i) => i);
    if (opts.sizes) order.sort((a, b) => (opts.sizes?.[b] ?? 0) - (opts.sizes?.[a] ?? 0));
    for (const i of order) {
      const l = lists.reduce((m, x) => (x.w < m.w ? x : m));
      l.idx.push(i);
      l.w += (opts.sizes?.[i] ?? 0) + 32 * 1024;
    }
    const done = new Array<number>(n).fill(0);
    const out = new Array<FileHash>(files.length);
    await Promise.all(
      lists.map(async (l, w) => {
        if (l.idx.length === 0) return;
        const r = await this.run(
          {
            op: 'hash-files',
            files: l.idx.map((i) => files[i] as string),
            concurrency: Math.max(1, opts.concurrency ?? 2),
            chunkBytes: 2 ** 20,
          },
          {
            signal: opts.signal,
            onProgress: (b) => {
              done[w] = b;
              opts.onProgress?.(done.reduce((s, x) => s + x, 0));
            },
          },
        );
        r.files.forEach((h, k) => {
          out[l.idx[k] as number] = h;
        });
      }),
    );
    return out;
  }

  /** Terminates every worker (running jobs reject). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }

  async #take(): Promise<Worker> {
    if (this.#closed) throw new StorageError('EABORTED', 'the storage driver is stopped');
    const idle = this.#idle.pop();
    if (idle) {
      idle.ref();
      return idle;
    }
    if (this.#all.size < this.max) {
      try {
        const w = startWorker(new URL('./block-io-worker.js', import.meta.url), {});
        this.#all.add(w);
        return w;
      } catch (err) {
        throw new StorageError('EIO', `cannot start a block I/O worker: ${(err as Error).message}`);
      }
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #give(w: Worker): void {
    if (!this.#all.has(w)) return;
    const waiter = this.#waiting.shift();
    if (waiter) {
      waiter(w);
      return;
    }
    w.unref();
    this.#idle.push(w);
  }

  #drop(w: Worker): void {
    this.#all.delete(w);
    const i = this.#idle.indexOf(w);
    if (i >= 0) this.#idle.splice(i, 1);
    void w.terminate();
    // A waiter gets a fresh worker instead.
    const waiter = this.#waiting.shift();
    if (waiter) void this.#take().then(waiter);
  }
}

/**
 * Merges sorted ranges whose gap is below `gapBytes` into extents no longer than
 * `maxBytes` (0 = unbounded), so that many small mapped ranges are read and written as
 * few long sequential I/Os; the gap bytes are copied as the image holds them (zeros).
 */
export function coalesce(ranges: readonly BlockRange[], gapBytes: number): BlockRange[] {
  const out: BlockRange[] = [];
  for (const r of [...ranges].sort((a, b) => a.offset - b.offset)) {
    const last = out.at(-1);
    if (last && r.offset - (last.offset + last.length) <= gapBytes) {
      last.length = Math.max(last.length, r.offset + r.length - last.offset);
    } else {
      out.push({ offset: r.offset, length: r.length });
    }
  }
  return out;
}

function describe(job: BlockJob): string {
  switch (job.op) {
    case 'write':
      return `writing ${job.image} to ${job.device}`;
    case 'verify':
      return `verifying ${job.device} against ${job.image}`;
    case 'hash-ranges':
      return `hashing the mapped ranges of ${job.image}`;
    default:
      return `hashing ${job.files.length} file(s)`;
  }
}

function errorOf(job: BlockJob, code: string, message: string): StorageError {
  const what = describe(job);
  if (code === 'EABORTED') return new StorageError('EABORTED', `${what} cancelled`);
  const gone = code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO';
  const device = job.op === 'write' || job.op === 'verify' ? job.device : '';
  if (gone && device && message.includes(device))
    return new StorageError('EDISCONNECTED', `${what}: the device went away (${message})`);
  let mapped: StorageErrorCode = 'EIO';
  if (code === 'EBUSY') mapped = 'EBUSY';
  else if (code === 'EINVAL' || code === 'ENOENT') mapped = 'EINVAL';
  else if (!IO_CODES.has(code)) mapped = 'EIO';
  return new StorageError(
    mapped,
    `${what} failed (${code}): ${message}${mapped === 'EIO' ? '; take the disk out of service if this repeats' : ''}`,
  );
}
