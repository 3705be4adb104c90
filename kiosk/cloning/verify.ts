/**
 * Re-reads every file of a mounted disk and checks it against the manifest: size and
 * SHA-256 of each file, no file missing, no extra file (the identity directory aside).
 * The reading and hashing run in worker threads (`hashFiles`, hal/storage's), so a
 * verification never holds up kioskd's main thread. Reads go through the mount; the
 * caller makes sure they come from the disk (unmount, drop caches, mount again: see
 * pipeline.ts).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Storage } from '../../hal/storage/index.js';
import type { ContentManifest } from '../content/manifest.js';
import { foldPath, IDENTITY_DIR } from '../content/paths.js';

export interface VerifyResult {
  ok: boolean;
  mismatched: string[];
  missing: string[];
  extra: string[];
  /** Files that could not be read (I/O errors): the disk is suspect. */
  unreadable: { path: string; error: string }[];
  bytesRead: number;
}

export interface VerifyOptions {
  /** Reads and hashes files off the main thread (a Storage's hashFiles). */
  hashFiles: Storage['hashFiles'];
  /** Files read at once (spread over up to two worker threads). Default 4. */
  readers?: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((bytesDone: number, filesDone: number) => void) | undefined;
}

export async function verifyTree(
  root: string,
  manifest: ContentManifest,
  opts: VerifyOptions,
): Promise<VerifyResult> {
  const r: VerifyResult = {
    ok: false,
    mismatched: [],
    missing: [],
    extra: [],
    unreadable: [],
    bytesRead: 0,
  };
  const readers = Math.max(1, opts.readers ?? 4);
  const workers = Math.min(2, readers);
  const files = manifest.files;
  const hashes = await opts.hashFiles(
    files.map((f) => path.join(root, ...f.path.split('/'))),
    {
      workers,
      concurrency: Math.ceil(readers / workers),
      sizes: files.map((f) => f.size),
      signal: opts.signal,
      onProgress: (b) => opts.onProgress?.(b, 0),
    },
  );
  files.forEach((f, i) => {
    const h = hashes[i];
    if (!h) return;
    if ('error' in h) {
      if (h.code === 'ENOENT') r.missing.push(f.path);
      else r.unreadable.push({ path: f.path, error: h.error });
      return;
    }
    r.bytesRead += h.size;
    if (h.size !== f.size || h.sha256 !== f.sha256) r.mismatched.push(f.path);
  });
  opts.onProgress?.(r.bytesRead, files.length);
  const expected = new Set(files.map((f) => foldPath(f.path)));
  for (const p of await listFiles(root)) {
    if (p === IDENTITY_DIR || p.startsWith(`${IDENTITY_DIR}/`)) continue;
    if (!expected.has(foldPath(p))) r.extra.push(p);
  }
  r.ok = r.mismatched.length + r.missing.length + r.extra.length + r.unreadable.length === 0;
  return r;
}

/** Every file under root, relative with `/`. */
async function listFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else out.push(p);
  }
  return out;
}

/** One line saying what failed, for errors and fault records. */
export function describeVerify(r: VerifyResult): string {
  const parts: string[] = [];
  const few = (xs: string[]) =>
    xs
      .slice(0, 3)
      .map((x) => JSON.stringify(x))
      .join(', ') + (xs.length > 3 ? ` and ${xs.length - 3} more` : '');
  if (r.mismatched.length)
    parts.push(`${r.mismatched.length} file(s) differ: ${few(r.mismatched)}`);
  if (r.missing.length) parts.push(`${r.missing.length} missing: ${few(r.missing)}`);
  if (r.extra.length) parts.push(`${r.extra.length} unexpected: ${few(r.extra)}`);
  if (r.unreadable.length)
    parts.push(
      `${r.unreadable.length} unreadable: ${few(r.unreadable.map((u) => `${u.path} (${u.error})`))}`,
    );
  return parts.join('; ');
}
