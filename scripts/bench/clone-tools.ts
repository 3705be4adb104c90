/** Helpers of the clone benchmark: commands with checked exit codes, timing, tree sizes. */
import { spawn } from 'node:child_process';
import { open, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Runs a command; rejects with its stderr when the exit code is not 0. */
export function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => {
      out += d;
    });
    c.stderr.on('data', (d) => {
      err += d;
    });
    c.on('error', reject);
    c.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`)),
    );
  });
}

export async function timed<R>(fn: () => Promise<R>): Promise<{ secs: number; result: R }> {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, result };
}

/** Files and bytes under a directory (symlinks not followed). */
export async function treeSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) {
      files++;
      bytes += (await stat(path.join(e.parentPath, e.name))).size;
    }
  }
  return { files, bytes };
}

/** Reads every file once, in order, one at a time (the plain sequential-read baseline). */
export async function sequentialRead(dir: string): Promise<number> {
  const buf = Buffer.allocUnsafe(1 << 20);
  let total = 0;
  const entries = (await readdir(dir, { withFileTypes: true, recursive: true })).filter((e) =>
    e.isFile(),
  );
  entries.sort((a, b) =>
    path.join(a.parentPath, a.name).localeCompare(path.join(b.parentPath, b.name)),
  );
  for (const e of entries) {
    const fh = await open(path.join(e.parentPath, e.name), 'r');
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        total += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }
  return total;
}

export async function dropCaches(device: string): Promise<void> {
  await sh('sync', []);
  await sh('blockdev', ['--flushbufs', device]);
  await writeFile('/proc/sys/vm/drop_caches', '3');
}

export const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
export const mbps = (bytes: number, secs: number) => bytes / 2 ** 20 / secs;
