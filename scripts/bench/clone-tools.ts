/** Helpers of the clone benchmark: commands with checked exit codes, timing, tree sizes. */
import { spawn } from 'node:child_process';
import { mkdir, open, readdir, readFile, realpath, rmdir, stat, writeFile } from 'node:fs/promises';
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

/**
 * Runs dd with `args` (under bash, whose `times` gives dd's user + sys CPU seconds) and
 * checks its exit code and that it moved exactly `bytes`. Resolves with the wall seconds
 * and dd's CPU seconds.
 */
export async function dd(args: string[], bytes: number): Promise<{ secs: number; cpu: number }> {
  const t0 = process.hrtime.bigint();
  const out = await sh('bash', ['-c', 'dd "$@" 2>&1; rc=$?; times; exit $rc', 'dd', ...args]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const copied = /^(\d+) bytes/m.exec(out)?.[1];
  if (Number(copied) !== bytes)
    throw new Error(
      `dd ${args.join(' ')} moved ${copied ?? '?'} bytes, not ${bytes}: ${out.trim()}`,
    );
  const times = [...out.matchAll(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/g)].at(-1);
  if (!times) throw new Error(`no CPU times from bash after dd: ${out.trim()}`);
  const [, um, us, sm, ss] = times.map(Number) as number[];
  return { secs, cpu: (um ?? 0) * 60 + (us ?? 0) + (sm ?? 0) * 60 + (ss ?? 0) };
}

/** Wall seconds and this process's CPU seconds (all its threads: the I/O workers too). */
export async function timedCpu<R>(
  fn: () => Promise<R>,
): Promise<{ secs: number; cpu: number; result: R }> {
  const c0 = process.cpuUsage();
  const { secs, result } = await timed(fn);
  const c = process.cpuUsage(c0);
  return { secs, cpu: (c.user + c.system) / 1e6, result };
}

/**
 * Caps reads and writes to `devices` at `bytesPerSecond` each for this process (its
 * threads and the children it starts from now on: dd, the kiosk's I/O workers), with a
 * cgroup v1 blkio throttle, as a portable USB disk would. Only direct I/O is throttled
 * (buffered writeback is not charged to the process), which is what both sides of the
 * image-mode comparison do. Resolves with the undo (back to the parent cgroup).
 */
export async function throttleDevices(
  devices: string[],
  bytesPerSecond: number,
): Promise<() => Promise<void>> {
  const root = '/sys/fs/cgroup/blkio';
  const mine = /^\d+:blkio:(.*)$/m.exec(await readFile('/proc/self/cgroup', 'utf8'))?.[1];
  if (mine === undefined)
    throw new Error('no cgroup v1 blkio controller: cannot throttle the disks');
  const parent = path.join(root, mine);
  const dir = path.join(parent, `bench-clone-${process.pid}`);
  await mkdir(dir, { recursive: true });
  for (const d of devices) {
    const name = path.basename(await realpath(d));
    const majMin = (await readFile(`/sys/class/block/${name}/dev`, 'utf8')).trim();
    await writeFile(
      path.join(dir, 'blkio.throttle.read_bps_device'),
      `${majMin} ${bytesPerSecond}`,
    );
    await writeFile(
      path.join(dir, 'blkio.throttle.write_bps_device'),
      `${majMin} ${bytesPerSecond}`,
    );
  }
  await writeFile(path.join(dir, 'cgroup.procs'), String(process.pid));
  let undone = false;
  return async () => {
    if (undone) return;
    undone = true;
    await writeFile(path.join(parent, 'cgroup.procs'), String(process.pid));
    await rmdir(dir);
  };
}
