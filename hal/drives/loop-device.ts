/**
 * Loop devices (root only): the one place that attaches and detaches them, for the drives
 * simulator, the demo's disks, the tests and the benchmarks.
 *
 * A loop device keeps the read-only flag its previous user left on it (a test that
 * checked `blockdev --setro` leaves /dev/loop0 read-only after detach, and the next
 * `mkfs.exfat` on it fails with errno 1), so attachLoop() sets every device it attaches
 * writable before handing it out.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Attaches `file` to a free loop device and sets it writable (`blockdev --setrw`).
 * Resolves with `/dev/loopN`. Rejects with losetup's or blockdev's message; a device
 * attached before blockdev failed is detached again. No timeout of its own (losetup and
 * blockdev return in milliseconds); not cancellable: register the undo before calling
 * (see the demo's disks) so an attach in flight during a stop is still detached.
 */
export async function attachLoop(file: string): Promise<string> {
  let device: string;
  try {
    device = (await run('losetup', ['--find', '--show', file])).stdout.trim();
  } catch (err) {
    throw new Error(`cannot attach a loop device to ${file}: ${messageOf(err)}`);
  }
  try {
    await run('blockdev', ['--setrw', device]);
  } catch (err) {
    await run('losetup', ['-d', device]).catch(() => undefined);
    throw new Error(`cannot set ${device} writable (blockdev --setrw): ${messageOf(err)}`);
  }
  return device;
}

/** Mount points of `device` in the text of /proc/self/mounts. */
export function mountpointsIn(mounts: string, device: string): string[] {
  return mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([src]) => src === device)
    .map(([, target]) => (target ?? '').replace(/\\040/g, ' '));
}

/** Mount points of `device` in this mount namespace. */
export async function mountpointsOf(device: string): Promise<string[]> {
  return mountpointsIn(await readFile('/proc/self/mounts', 'utf8').catch(() => ''), device);
}

/** Unmounts everything mounted from `device` (lazily when busy). Never rejects. */
export async function unmountAll(device: string): Promise<void> {
  for (const mp of await mountpointsOf(device)) {
    await run('umount', [mp]).catch(() => run('umount', ['-l', mp]).catch(() => undefined));
  }
}

/**
 * Unmounts whatever is mounted from `device`, then detaches it. Never rejects.
 * `keepMounts`: detach only, as a disk pulled out while mounted (the kernel detaches the
 * device once its last mount is gone).
 */
export async function detachLoop(
  device: string,
  opts: { keepMounts?: boolean } = {},
): Promise<void> {
  if (!opts.keepMounts) await unmountAll(device);
  await run('losetup', ['-d', device]).catch(() => undefined);
}

/** Attached loop devices whose backing file lies under `dir` (e.g. left by a killed run). */
export async function loopsUnder(dir: string): Promise<string[]> {
  const { stdout } = await run('losetup', ['-J', '-l']).catch(() => ({ stdout: '' }));
  if (!stdout.trim()) return [];
  const rows = (
    JSON.parse(stdout) as { loopdevices?: Array<{ name: string; 'back-file'?: string | null }> }
  ).loopdevices;
  const prefix = path.resolve(dir) + path.sep;
  return (rows ?? [])
    .filter((r) => (r['back-file'] ?? '').replace(/ \(deleted\)$/, '').startsWith(prefix))
    .map((r) => r.name);
}

function messageOf(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  return (e.stderr?.trim() || e.message || String(err)).split('\n')[0]!;
}
