/**
 * The contract every Storage implementation meets: the real driver on loop devices (root)
 * and the simulator on directory disks. See contract.test.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Test } from 'tap';
import { findSystemDisks } from '../../../hal/drives/system-disks.js';
import type { Storage } from '../../../hal/storage/types.js';

export interface StorageFixture {
  storage: Storage;
  /** A disk in a calibrated slot, blank. */
  disk: string;
  /** A disk of the same kind that is not in any slot. */
  other: string;
  /** A fresh directory to use as a mountpoint. */
  mountpoint: string;
}

export function storageContract(t: Test, make: (t: Test) => Promise<StorageFixture>): void {
  t.test('format, check, probe', async (t) => {
    const { storage, disk } = await make(t);
    await storage.start();
    await storage.format(disk, { label: 'KIOSK01' });
    t.match(await storage.probe(disk), { fsType: 'exfat', label: 'KIOSK01' });
    const check = await storage.check(disk);
    t.equal(check.clean, true, `fsck passes on a fresh format: ${check.output}`);
    t.equal(check.exitCode, 0);
  });

  t.test('mount, write, unmount, mount read-only, read back', async (t) => {
    const { storage, disk, mountpoint } = await make(t);
    await storage.format(disk, { label: 'DATA' });
    const m = await storage.mount(disk, { mountpoint });
    t.teardown(() => storage.unmount(disk).catch(() => undefined));
    t.equal(m.readOnly, false);
    await writeFile(path.join(m.mountpoint, 'hello.txt'), 'hello kiosk');
    await t.rejects(storage.mount(disk), { code: 'EBUSY' }, 'a second mount is refused');
    await t.rejects(
      storage.format(disk, { label: 'X' }),
      { code: 'EBUSY' },
      'no format while mounted',
    );
    await storage.flush(disk);
    await storage.unmount(disk);
    await storage.unmount(disk);
    t.pass('unmount of an unmounted disk resolves');
    await storage.dropCaches(disk);
    const ro = await storage.mount(disk, { mountpoint, readOnly: true });
    t.equal(ro.readOnly, true);
    t.equal(await readFile(path.join(ro.mountpoint, 'hello.txt'), 'utf8'), 'hello kiosk');
    await storage.unmount(disk);
  });

  t.test('labels are validated', async (t) => {
    const { storage, disk } = await make(t);
    await t.rejects(storage.format(disk, { label: 'TWELVECHARSX' }), {
      code: 'EINVAL',
      message: /1 to 11/,
    });
    await t.rejects(storage.format(disk, { label: '' }), { code: 'EINVAL' });
    await t.rejects(storage.format(disk, { label: 'A/B' }), {
      code: 'EINVAL',
      message: /forbidden/,
    });
    await storage.format(disk, { label: 'ELEVENCHARS' });
    t.match(await storage.probe(disk), { label: 'ELEVENCHARS' });
  });

  t.test('the read-only flag blocks writes until cleared', async (t) => {
    const { storage, disk, mountpoint } = await make(t);
    await storage.format(disk, { label: 'RO' });
    await storage.setReadOnly(disk, true);
    t.teardown(() => storage.setReadOnly(disk, false).catch(() => undefined));
    t.equal(await storage.isReadOnly(disk), true);
    await t.rejects(storage.format(disk, { label: 'NOPE' }), { code: 'EREADONLY' });
    await t.rejects(storage.quickWipe(disk), { code: 'EREADONLY' });
    await t.rejects(storage.fullWipe(disk), { code: 'EREADONLY' });
    await t.rejects(storage.mount(disk, { mountpoint }), { code: 'EREADONLY' });
    const m = await storage.mount(disk, { mountpoint, readOnly: true });
    t.equal(m.readOnly, true);
    await storage.unmount(disk);
    await storage.setReadOnly(disk, false);
    t.equal(await storage.isReadOnly(disk), false);
    await storage.quickWipe(disk);
    t.pass('writable again');
  });

  t.test('quick wipe removes the filesystem', async (t) => {
    const { storage, disk } = await make(t);
    await storage.format(disk, { label: 'GONE' });
    await storage.quickWipe(disk);
    t.same(await storage.probe(disk), {}, 'no signature left');
    t.equal((await storage.check(disk)).clean, false, 'fsck fails');
  });

  t.test('full wipe reports progress to the end and can be cancelled', async (t) => {
    const { storage, disk } = await make(t);
    await storage.format(disk, { label: 'FULL' });
    const seen: number[] = [];
    let total = 0;
    await storage.fullWipe(disk, {
      onProgress: (p) => {
        seen.push(p.bytesWritten);
        total = p.totalBytes;
      },
    });
    t.ok(total > 0);
    t.equal(seen.at(-1), total, 'progress reaches the total');
    t.ok(
      seen.every((v, i) => i === 0 || v > seen[i - 1]!),
      'progress increases',
    );
    t.same(await storage.probe(disk), {});
    const ctl = new AbortController();
    await t.rejects(storage.fullWipe(disk, { signal: ctl.signal, onProgress: () => ctl.abort() }), {
      code: 'EABORTED',
    });
  });

  t.test('devices that are not slot disks are refused, every operation', async (t) => {
    const { storage, other } = await make(t);
    const systemDisks = await findSystemDisks();
    t.ok(systemDisks.length > 0, 'the system disk is known');
    for (const device of [other, ...systemDisks]) {
      const ops: Array<[string, () => Promise<unknown>]> = [
        ['format', () => storage.format(device, { label: 'X' })],
        ['mount', () => storage.mount(device)],
        ['unmount', () => storage.unmount(device)],
        ['setReadOnly', () => storage.setReadOnly(device, true)],
        ['isReadOnly', () => storage.isReadOnly(device)],
        ['quickWipe', () => storage.quickWipe(device)],
        ['fullWipe', () => storage.fullWipe(device)],
        ['check', () => storage.check(device)],
        ['probe', () => storage.probe(device)],
        ['flush', () => storage.flush(device)],
        ['dropCaches', () => storage.dropCaches(device)],
      ];
      for (const [name, op] of ops) {
        await t.rejects(op(), { code: 'ENOTSLOTDISK' }, `${name} ${device}`);
      }
    }
  });
}
