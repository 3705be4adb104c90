/**
 * Re-reads every file of a mounted disk and checks it against the manifest: size and
 * SHA-256 of each file (several parallel readers), no file missing, no extra file
 * (the identity directory aside). Reads go through the mount; the caller makes sure
 * they come from the disk (unmount, drop caches, mount again: see pipeline.ts).
 */
import { createHash } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { mapLimit } from '../content/limit.js';
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
  readers?: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((bytesDone: number, filesDone: number) => void) | undefined;
  /** Read size. Default 1 MiB. */
  chunkBytes?: number;
}

export async function verifyTree(
  root: string,
  manifest: ContentManifest,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const r: VerifyResult = {
    ok: false,
    mismatched: [],
    missing: [],
    extra: [],
    unreadable: [],
    bytesRead: 0,
  };
  let files = 0;
  const chunk = opts.chunkBytes ?? 1 << 20;
  // Small files first share one buffer per reader; order largest first for balance.
  const order = [...manifest.files].sort((a, b) => b.size - a.size);
  await mapLimit(order, opts.readers ?? 4, async (f) => {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    const file = path.join(root, ...f.path.split('/'));
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') r.missing.push(f.path);
      else r.unreadable.push({ path: f.path, error: (err as Error).message });
      return;
    }
    try {
      const h = createHash('sha256');
      const buf = Buffer.allocUnsafe(Math.min(chunk, Math.max(f.size, 4096)));
      let total = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, total);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        total += bytesRead;
        r.bytesRead += bytesRead;
        opts.onProgress?.(r.bytesRead, files);
        if (total > f.size) break;
      }
      if (total !== f.size || h.digest('hex') !== f.sha256) r.mismatched.push(f.path);
    } catch (err) {
      r.unreadable.push({ path: f.path, error: (err as Error).message });
    } finally {
      await fh.close();
    }
    files++;
    opts.onProgress?.(r.bytesRead, files);
  });
  const expected = new Set(manifest.files.map((f) => foldPath(f.path)));
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
