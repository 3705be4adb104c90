/**
 * HTTP download of one blob into a `.part` file with resume: an existing `.part` is
 * continued with `Range: bytes=<size>-` (a 206 appends, a 200 starts over), hashed as it
 * is written, fsynced. The caller commits it to the BlobStore, which checks the hash.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, truncate } from 'node:fs/promises';
import { ContentError } from './errors.js';

/** `headers` (the origin's credentials) for `url` when it lies under `origin`; none for another host. */
export function headersUnder(
  origin: string | undefined,
  headers: Record<string, string> | undefined,
  url: string,
): Record<string, string> {
  if (!origin || !headers) return {};
  return url.startsWith(`${origin.replace(/\/+$/, '')}/`) ? { ...headers } : {};
}

/**
 * A blob URL of the hub (`<any host>/blobs/sha256/<sha256>`) as the same blob on `origin`,
 * the content origin this kiosk is configured with; any other URL as it is.
 */
export function originBlobUrl(origin: string, url: string, sha256: string): string {
  let p: string;
  try {
    p = new URL(url).pathname;
  } catch {
    return url;
  }
  return p === `/blobs/sha256/${sha256}` ? `${origin.replace(/\/+$/, '')}${p}` : url;
}

export interface DownloadOptions {
  url: string;
  partFile: string;
  size: number;
  /** Aborting rejects with EABORTED; the `.part` file stays for a later resume. */
  signal?: AbortSignal | undefined;
  /** Gives up on a response that sends nothing for this long. Default 30 000 ms. */
  idleTimeoutMs?: number | undefined;
  /** Called with the number of new bytes written. */
  onBytes?: ((n: number) => void) | undefined;
  /** Extra request headers (the origin's credentials). */
  headers?: Record<string, string> | undefined;
  fetch?: typeof fetch | undefined;
}

/**
 * One attempt. Resolves with the SHA-256 (hex) of the whole `.part` file when the body
 * ended with `size` bytes on disk; rejects with ContentError EDOWNLOAD (status, cut-off,
 * idle timeout; the `.part` keeps what arrived) or EABORTED.
 */
export async function downloadToPart(opts: DownloadOptions): Promise<string> {
  const have = (await stat(opts.partFile).catch(() => undefined))?.size ?? 0;
  const hash = createHash('sha256');
  let offset = have;
  if (have > opts.size) {
    await truncate(opts.partFile, 0);
    offset = 0;
  }
  const idle = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, idle.signal]) : idle.signal;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  let timer = setTimeout(() => idle.abort(), idleMs);
  const bump = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), idleMs);
  };
  const fail = (what: string, cause?: unknown): never => {
    if (opts.signal?.aborted)
      throw new ContentError('EABORTED', `download of ${opts.url} cancelled`);
    throw new ContentError(
      'EDOWNLOAD',
      `download of ${opts.url} failed: ${what}; it resumes from the ${offset}-byte .part on retry`,
      { cause },
    );
  };
  const fh = await open(opts.partFile, offset > 0 ? 'r+' : 'w');
  try {
    if (offset === opts.size) {
      // Already complete (e.g. cut off after the last byte): nothing to fetch.
    } else {
      const headers: Record<string, string> = {
        ...opts.headers,
        ...(offset > 0 ? { range: `bytes=${offset}-` } : {}),
      };
      const res = await (opts.fetch ?? fetch)(opts.url, { headers, signal }).catch((e) =>
        fail(idle.signal.aborted ? 'no response in time' : (e as Error).message, e),
      );
      if (res.status === 200 && offset > 0) {
        offset = 0; // the server ignored the Range: start over
        await fh.truncate(0);
      } else if (res.status !== 206 && res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        fail(`HTTP ${res.status}`);
      }
      if (!res.body) fail('empty body');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done, value } = await reader
          .read()
          .catch((e) =>
            fail(idle.signal.aborted ? `no data for ${idleMs} ms` : 'connection cut', e),
          );
        if (done) break;
        bump();
        if (offset + value.byteLength > opts.size) fail(`body longer than ${opts.size} bytes`);
        await fh.write(value, 0, value.byteLength, offset);
        offset += value.byteLength;
        opts.onBytes?.(value.byteLength);
      }
    }
    await fh.sync();
  } finally {
    clearTimeout(timer);
    await fh.close();
  }
  if (offset !== opts.size) fail(`body ended at ${offset} of ${opts.size} bytes`);
  for await (const c of createReadStream(opts.partFile, { highWaterMark: 1 << 20 })) {
    hash.update(c as Buffer);
  }
  return hash.digest('hex');
}
