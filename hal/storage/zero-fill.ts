/** Writes zeros over a byte range of an open device, in chunks, with progress and cancel. */
import type { FileHandle } from 'node:fs/promises';
import { StorageError, type WipeProgress } from './types.js';

export const ZERO_CHUNK = 4 * 2 ** 20;

export interface ZeroFillOptions {
  onProgress?: (p: WipeProgress) => void;
  signal?: AbortSignal;
  /** Progress is reported against this total (default: `length`). */
  totalBytes?: number;
  /** Bytes already written before this range, for progress. */
  doneBefore?: number;
}

export async function zeroFill(
  fh: FileHandle,
  offset: number,
  length: number,
  opts: ZeroFillOptions = {},
): Promise<void> {
  const zeros = Buffer.alloc(Math.min(ZERO_CHUNK, Math.max(length, 1)));
  const total = opts.totalBytes ?? length;
  let done = 0;
  while (done < length) {
    if (opts.signal?.aborted) {
      throw new StorageError(
        'EABORTED',
        `Wipe cancelled after ${(opts.doneBefore ?? 0) + done} of ${total} bytes; the disk is partly wiped: wipe it again`,
      );
    }
    const n = Math.min(zeros.length, length - done);
    const { bytesWritten } = await fh.write(zeros, 0, n, offset + done);
    if (bytesWritten <= 0) throw new Error(`short write at offset ${offset + done}`);
    done += bytesWritten;
    opts.onProgress?.({ bytesWritten: (opts.doneBefore ?? 0) + done, totalBytes: total });
  }
}
