/**
 * Loop devices for tests that need real block devices (root only).
 *
 *   if (!requireRoot(t)) return;
 *   const disk = await createLoopDisk({ sizeMiB: 32, t });   // t: detach registered in t.teardown
 *   ... disk.device is /dev/loopN, writable ...
 *
 * detach() unmounts whatever is mounted from the device (lazily if busy), detaches it,
 * and removes the backing file when the helper made its directory. Idempotent.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoopDisk {
  /** `/dev/loopN`, read-write. */
  device: string;
  /** The sparse file behind it. */
  backingFile: string;
  /** Unmounts, detaches and deletes the backing file. Never rejects; idempotent. */
  detach(): Promise<void>;
}

export interface LoopDiskOptions {
  sizeMiB: number;
  /** Directory for the backing file; default a fresh `fs.mkdtemp` directory (removed on detach). */
  dir?: string;
  /** When given, `detach` is registered with `t.teardown`, so it runs even when the test fails. */
  t?: { teardown(fn: () => unknown): void };
}

/** Whether the tests needing root and loop devices must run (CI sets DISK_KIOSK_FULL_TESTS=1). */
export const fullTests = () => process.env.DISK_KIOSK_FULL_TESTS === '1';

export const isRoot = () => process.getuid?.() === 0;

/**
 * True when running as root. Otherwise the test is skipped with a message, or FAILED
 * when DISK_KIOSK_FULL_TESTS=1; returns false and the caller should return at once.
 */
export function requireRoot(t: {
  plan(n: number, comment?: string): void;
  fail(message: string): unknown;
}): boolean {
  if (isRoot()) return true;
  const msg = 'needs root for loop devices, mkfs and mount (run as root)';
  if (fullTests()) {
    t.fail(`${msg}; DISK_KIOSK_FULL_TESTS=1 forbids skipping`);
  } else {
    t.plan(0, `skip: ${msg}`);
  }
  return false;
}

async function mountpointsOf(device: string): Promise<string[]> {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  return mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([src]) => src === device)
    .map(([, target]) => (target ?? '').replace(/\\040/g, ' '));
}

export async function createLoopDisk(opts: LoopDiskOptions): Promise<LoopDisk> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'loop-disk-')));
  const backingFile = path.join(
    dir,
    `disk-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.img`,
  );
  const fh = await open(backingFile, 'w');
  await fh.truncate(opts.sizeMiB * 2 ** 20);
  await fh.close();
  const { stdout } = await run('losetup', ['--find', '--show', backingFile]);
  const device = stdout.trim();
  let detached = false;
  const detach = async () => {
    if (detached) return;
    detached = true;
    for (const mp of await mountpointsOf(device)) {
      await run('umount', [mp]).catch(() => run('umount', ['-l', mp]).catch(() => undefined));
    }
    await run('losetup', ['-d', device]).catch(() => undefined);
    if (ownDir) await rm(dir, { recursive: true, force: true });
    else await rm(backingFile, { force: true });
  };
  try {
    // A loop device can keep the read-only flag of its previous user.
    await run('blockdev', ['--setrw', device]);
  } catch (err) {
    await detach();
    throw err;
  }
  opts.t?.teardown(detach);
  return { device, backingFile, detach };
}
