/**
 * Copies a staging view onto a mounted disk with N parallel `rsync` processes, each
 * given a byte-balanced share of the files through `--files-from`.
 *
 * Flags, and why (measured with scripts/bench/clone.ts):
 *  -r (no -t)                 file times are not kept: setting them costs one more FUSE
 *                             round trip per file (measured: small files ~2x slower with -t),
 *                             and the disk is checked by hash, not by time; a retry re-copies
 *                             (--ignore-times is implied by having no times to compare)
 *  --no-implied-dirs          the target's directories are created beforehand
 *  --no-perms --no-owner --no-group   exFAT has none of them
 *  --whole-file               no delta algorithm: the target is freshly formatted
 *  --inplace                  no temp file + rename per file (halves metadata work on exFAT);
 *                             a torn file is caught by the verify step anyway
 *  --checksum-choice=none     no transfer checksum: the pipeline re-reads and SHA-256-checks
 *                             every file from the disk afterwards, which is stronger
 *  --info=progress2           one overall progress line per process, parsed for events
 *  --from0 --files-from       NUL-separated lists, one per process
 * The target's directories are created before the processes start, so parallel rsyncs
 * never race on mkdir.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContentManifest, ManifestFile } from '../content/manifest.js';
import { buildStaging } from './staging.js';
import { CloneError } from './types.js';

export const RSYNC_FLAGS = [
  '-r',
  '--no-implied-dirs',
  '--no-perms',
  '--no-owner',
  '--no-group',
  '--whole-file',
  '--inplace',
  '--checksum-choice=none',
  '--info=progress2',
  '--from0',
] as const;

/** Exit codes worth one more try (I/O, stream, partial transfer, timeouts). */
const TRANSIENT = new Set([10, 11, 12, 23, 24, 30, 35]);

export interface RsyncCopyOptions {
  source: string;
  target: string;
  files: readonly ManifestFile[];
  processes: number;
  /** Follow symlinks in the staging view. */
  copyLinks?: boolean;
  /** Whole-copy attempts on transient rsync exit codes. Default 2. */
  attempts?: number;
  /** Where the file lists go (a temp dir that the caller removes). */
  listDir: string;
  signal?: AbortSignal | undefined;
  /** Overall bytes and files done (summed over the processes). */
  onProgress?: ((bytesDone: number, filesDone: number) => void) | undefined;
  rsync?: string;
}

/** Splits files into `n` lists of about equal weight (largest first onto the lightest list). */
export function balanceByBytes<T extends { size: number }>(files: readonly T[], n: number): T[][] {
  const lists: { w: number; items: T[] }[] = Array.from({ length: Math.max(1, n) }, () => ({
    w: 0,
    items: [],
  }));
  // A small per-file cost, so 20 000 tiny files are split by count as well as by bytes.
  for (const f of [...files].sort((a, b) => b.size - a.size)) {
    const lightest = lists.reduce((m, l) => (l.w < m.w ? l : m));
    lightest.items.push(f);
    lightest.w += f.size + 32 * 1024;
  }
  return lists.map((l) => l.items).filter((l) => l.length > 0);
}

/** Runs the copy; rejects with CloneError ECOPY (exit codes and stderr tail) or EABORTED. */
export async function rsyncCopy(o: RsyncCopyOptions): Promise<void> {
  const dirs = new Set<string>();
  for (const f of o.files) {
    const d = path.posix.dirname(f.path);
    if (d !== '.') dirs.add(d);
  }
  for (const d of [...dirs].sort())
    await mkdir(path.join(o.target, ...d.split('/')), { recursive: true });
  const lists = balanceByBytes(o.files, o.processes);
  const listFiles = await Promise.all(
    lists.map(async (l, i) => {
      const file = path.join(o.listDir, `files-${i}.lst`);
      await writeFile(file, `${l.map((f) => f.path).join('\0')}\0`);
      return file;
    }),
  );
  const attempts = o.attempts ?? 2;
  try {
    for (let attempt = 1; ; attempt++) {
      const bytes = new Array<number>(lists.length).fill(0);
      const files = new Array<number>(lists.length).fill(0);
      const results = await Promise.all(
        listFiles.map((lf, i) =>
          runOne(o, lf, (b, f) => {
            bytes[i] = b;
            files[i] = f;
            o.onProgress?.(sum(bytes), sum(files));
          }),
        ),
      );
      const failed = results.filter((r) => r.code !== 0);
      if (failed.length === 0) return;
      if (o.signal?.aborted) throw new CloneError('EABORTED', 'copying', 'copy cancelled');
      const detail = failed
        .map(
          (r) => `exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`,
        )
        .join('; ');
      if (failed.some((r) => /No space left on device/.test(r.stderr))) {
        throw new CloneError('ETOOSMALL', 'copying', `the disk filled up while copying: ${detail}`);
      }
      const transient = failed.every((r) => r.code !== null && TRANSIENT.has(r.code));
      if (!transient || attempt >= attempts) {
        throw new CloneError(
          'ECOPY',
          'copying',
          `rsync failed after ${attempt} attempt(s): ${detail}`,
        );
      }
    }
  } finally {
    await Promise.all(listFiles.map((f) => rm(f, { force: true })));
  }
}

const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runOne(
  o: RsyncCopyOptions,
  listFile: string,
  onProgress: (bytes: number, files: number) => void,
): Promise<RunResult> {
  const args = [
    ...RSYNC_FLAGS,
    ...(o.copyLinks ? ['--copy-links'] : []),
    `--files-from=${listFile}`,
    `${o.source}/`,
    `${o.target}/`,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(o.rsync ?? 'rsync', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: o.signal,
    });
    let stderr = '';
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const parts = buf.split(/[\r\n]/);
      buf = parts.pop() ?? '';
      for (const line of parts) {
        const m = /^\s*([\d,]+)\s+\d+%.*?(?:xfr#(\d+))?/.exec(line);
        if (m)
          onProgress(Number(m[1]?.replace(/,/g, '')), Number(/xfr#(\d+)/.exec(line)?.[1] ?? 0));
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ABORT_ERR')
        resolve({ code: null, signal: 'SIGTERM', stderr: 'aborted' });
      else
        reject(
          new CloneError('ECOPY', 'copying', `cannot run rsync: ${err.message}; install rsync`, {
            cause: err,
          }),
        );
    });
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/**
 * Copies a manifest's files from the content cache onto a mounted volume: a staging view
 * of hard links to the blobs, then rsyncCopy; the view and the file lists are removed
 * whatever happens. Rejects like rsyncCopy.
 */
export async function copyFromCache(
  cache: { blobPath(sha256: string): string; stagingDir: string },
  m: ContentManifest,
  target: string,
  o: Pick<RsyncCopyOptions, 'processes' | 'attempts' | 'signal' | 'onProgress'>,
): Promise<void> {
  const staging = await buildStaging(cache.stagingDir, m, (h) => cache.blobPath(h));
  const listDir = await mkdtemp(path.join(cache.stagingDir, 'lists-')).catch(async (err) => {
    await staging.remove();
    throw err;
  });
  try {
    await rsyncCopy({
      ...o,
      source: staging.root,
      target,
      files: m.files,
      copyLinks: staging.symlinks,
      listDir,
    });
  } finally {
    await staging.remove();
    await rm(listDir, { recursive: true, force: true });
  }
}
