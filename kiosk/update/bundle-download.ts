/**
 * Downloads an update bundle from the hub's content origin into `<file>.part` (resumed from
 * what is there, with the content cache's downloadToPart), checks size and SHA-256, and
 * renames it to `<file>`. Checks the free space first: the bundle's missing bytes plus a
 * margin must fit on the data partition.
 */
import { mkdir, rename, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CodedError } from '../../common/coded-error.js';
import { fsyncDir, hashFile } from '../content/blob-store.js';
import { downloadToPart } from '../content/download.js';

export class UpdateError extends CodedError {}

export interface BundleDownload {
  url: string;
  file: string;
  sha256: string;
  size: number;
  headers?: Record<string, string> | undefined;
  fetch?: typeof fetch | undefined;
  signal?: AbortSignal | undefined;
  /** Bytes that must stay free besides the bundle. Default 64 MiB. */
  reserveBytes?: number | undefined;
  /** Attempts, each resuming the `.part`. Default 5. */
  attempts?: number | undefined;
  /** Pause before the n-th retry: n * retryDelayMs. Default 2000. */
  retryDelayMs?: number | undefined;
  idleTimeoutMs?: number | undefined;
  onProgress?: ((bytesDone: number, bytesTotal: number) => void) | undefined;
  /** Free bytes of the file system holding `dir` (tests). */
  freeBytes?: ((dir: string) => Promise<number>) | undefined;
}

const MiB = 2 ** 20;

export async function freeBytesOf(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/**
 * Resolves once `file` holds the bundle (size and hash checked). Rejects UpdateError
 * ENOSPC (not enough room: nothing downloaded), EHASH (the bytes do not match twice in a
 * row), EDOWNLOAD (every attempt failed; the `.part` stays for the next try) or EABORTED.
 */
export async function downloadBundle(o: BundleDownload): Promise<void> {
  const dir = path.dirname(o.file);
  await mkdir(dir, { recursive: true });
  const done = await stat(o.file).catch(() => undefined);
  if (done?.size === o.size && (await hashFile(o.file)) === o.sha256) {
    o.onProgress?.(o.size, o.size);
    return;
  }
  await rm(o.file, { force: true });
  const part = `${o.file}.part`;
  const have = (await stat(part).catch(() => undefined))?.size ?? 0;
  const reserve = o.reserveBytes ?? 64 * MiB;
  const free = await (o.freeBytes ?? freeBytesOf)(dir);
  const need = Math.max(0, o.size - Math.min(have, o.size)) + reserve;
  if (free < need) {
    throw new UpdateError(
      'ENOSPC',
      `not enough free space for the update bundle in ${dir}: it needs ${Math.ceil(need / MiB)} MiB ` +
        `(${Math.ceil((o.size - have) / MiB)} MiB to download and ${Math.ceil(reserve / MiB)} MiB kept free), ` +
        `${Math.floor(free / MiB)} MiB are free; free some (kioskctl cache prune) and retry`,
    );
  }
  const attempts = o.attempts ?? 5;
  let hashMismatches = 0;
  let last: unknown;
  for (let i = 1; i <= attempts; i++) {
    if (o.signal?.aborted) throw new UpdateError('EABORTED', 'bundle download cancelled');
    let got = (await stat(part).catch(() => undefined))?.size ?? 0;
    try {
      const hash = await downloadToPart({
        url: o.url,
        partFile: part,
        size: o.size,
        signal: o.signal,
        idleTimeoutMs: o.idleTimeoutMs,
        headers: o.headers,
        fetch: o.fetch,
        onBytes: (n) => {
          got += n;
          o.onProgress?.(Math.min(got, o.size), o.size);
        },
      });
      if (hash === o.sha256) {
        await rename(part, o.file);
        await fsyncDir(dir);
        return;
      }
      await rm(part, { force: true });
      hashMismatches++;
      last = new UpdateError(
        'EHASH',
        `the bundle from ${o.url} does not match its SHA-256 (got ${hash}, expected ${o.sha256})`,
      );
      if (hashMismatches >= 2) throw last;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EABORTED' || o.signal?.aborted)
        throw new UpdateError('EABORTED', 'bundle download cancelled');
      if (err instanceof UpdateError && err.code === 'EHASH') throw err;
      last = err;
    }
    if (i < attempts)
      await sleep(i * (o.retryDelayMs ?? 2000), undefined, { signal: o.signal }).catch(
        () => undefined,
      );
  }
  throw new UpdateError(
    'EDOWNLOAD',
    `the update bundle could not be downloaded after ${attempts} attempts: ${(last as Error)?.message ?? 'unknown error'}`,
    { cause: last },
  );
}
