/**
 * Loop devices for tests that need real block devices (root only).
 *
 *   if (!requireRoot(t)) return;
 *   const disk = await createLoopDisk({ sizeMiB: 32, t });   // t: detach registered in t.teardown
 *   ... disk.device is /dev/loopN, writable ...
 *
 * Attached writable by the shared helper (hal/drives/loop-device.ts). detach() unmounts
 * whatever is mounted from the device (lazily if busy), detaches it, and removes the
 * backing file (and the directory when the helper made it). Idempotent.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { attachLoop, detachLoop } from '../../hal/drives/loop-device.js';
import { exfatDiskTools } from '../../hal/missing-tool.js';
import { haveTools } from './tools.js';

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
 * True when running as root and the exFAT disk tools (and `tools`) are installed. Not root: the test is skipped with
 * a message, or FAILED when DISK_KIOSK_FULL_TESTS=1. A missing tool fails it with one line
 * naming the install command (test/helpers/tools.ts). Returns false when the caller should
 * return at once.
 */
export function requireRoot(
  t: {
    plan(n: number, comment?: string): void;
    fail(message: string, extra: object): unknown;
  },
  tools: string[] = [],
): boolean {
  if (!isRoot()) {
    const msg = 'needs root for loop devices, mkfs and mount (run as root)';
    if (fullTests()) {
      t.fail(`${msg}; DISK_KIOSK_FULL_TESTS=1 forbids skipping`, { stack: '', at: null });
    } else {
      t.plan(0, `skip: ${msg}`);
    }
    return false;
  }
  return haveTools(t, [...exfatDiskTools(), ...tools], 'this root test');
}

export async function createLoopDisk(opts: LoopDiskOptions): Promise<LoopDisk> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'loop-disk-')));
  const backingFile = path.join(
    dir,
    `disk-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.img`,
  );
  const removeFiles = () =>
    ownDir ? rm(dir, { recursive: true, force: true }) : rm(backingFile, { force: true });
  const fh = await open(backingFile, 'w');
  await fh.truncate(opts.sizeMiB * 2 ** 20);
  await fh.close();
  // Registered before the attach, so a failing test still detaches what got attached.
  const attaching = attachLoop(backingFile);
  let detached = false;
  const detach = async () => {
    if (detached) return;
    detached = true;
    const device = await attaching.catch(() => undefined);
    if (device) await detachLoop(device);
    await removeFiles();
  };
  opts.t?.teardown(detach);
  let device: string;
  try {
    device = await attaching;
  } catch (err) {
    await detach();
    throw err;
  }
  return { device, backingFile, detach };
}

/** Flips the low bit of the byte at `offset` of a device or file, synced (corruption to catch). */
export async function flipByte(file: string, offset: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    await fh.write(Buffer.from([(b[0] ?? 0) ^ 0x01]), 0, 1, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
