import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { SimDrives } from '../../../hal/drives/sim.js';
import { waitReleased } from '../../../hal/storage/mounts.js';
import { RealStorage } from '../../../hal/storage/real.js';
import { createLoopDisk, requireRoot } from '../../helpers/loop-device.js';

const run = promisify(execFile);

async function setup(t: Test, sizeMiB = 16) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'storage-real-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const loop = await createLoopDisk({ sizeMiB, t });
  const drives = new SimDrives({ pollIntervalMs: 60_000 });
  t.teardown(() => drives.stop());
  await drives.insert(2, { device: loop.device, serial: 'REAL' });
  const warnings: string[] = [];
  const storage = new RealStorage({
    resolveSlotDisk: (d) => drives.resolveSlotDisk(d),
    mountRoot: path.join(dir, 'mnt'),
    log: { warn: (_o, msg) => warnings.push(msg) },
  });
  return { dir, loop, drives, storage, warnings };
}

t.test('after --setro the kernel refuses writes to the device', async (t) => {
  if (!requireRoot(t)) return;
  const { loop, storage } = await setup(t);
  await storage.setReadOnly(loop.device, true);
  t.teardown(() => run('blockdev', ['--setrw', loop.device]).catch(() => undefined));
  const dd = run('dd', ['if=/dev/zero', `of=${loop.device}`, 'bs=4096', 'count=1', 'oflag=direct']);
  await t.rejects(dd, /Operation not permitted|Read-only/i, 'dd to the device fails');
  t.equal((await run('blockdev', ['--getro', loop.device])).stdout.trim(), '1');
});

t.test('full wipe leaves every byte zero', async (t) => {
  if (!requireRoot(t)) return;
  const { loop, storage } = await setup(t, 16);
  const fh = await open(loop.device, 'r+');
  await fh.write(Buffer.alloc(2 ** 20, 0xab), 0, 2 ** 20, 7 * 2 ** 20);
  await fh.close();
  await storage.format(loop.device, { label: 'DIRTY' });
  await storage.fullWipe(loop.device);
  await storage.dropCaches(loop.device);
  const bytes = await readFile(loop.device);
  t.equal(bytes.length, 16 * 2 ** 20, 'read the whole device');
  t.equal(
    bytes.findIndex((b) => b !== 0),
    -1,
    'no non-zero byte',
  );
});

t.test('quick wipe: blkid finds nothing and the first and last MiB are zero', async (t) => {
  if (!requireRoot(t)) return;
  const { loop, storage } = await setup(t, 16);
  await storage.format(loop.device, { label: 'QUICK' });
  await storage.quickWipe(loop.device);
  await t.rejects(run('blkid', ['-p', loop.device]), { code: 2 }, 'blkid: no signature');
  const bytes = await readFile(loop.device);
  const head = bytes.subarray(0, 2 ** 20);
  const tail = bytes.subarray(bytes.length - 2 ** 20);
  t.equal(
    head.findIndex((b) => b !== 0),
    -1,
  );
  t.equal(
    tail.findIndex((b) => b !== 0),
    -1,
  );
});

t.test('tool failures are ETOOL with the tool, exit code and stderr', async (t) => {
  if (!requireRoot(t)) return;
  const { loop, storage } = await setup(t);
  await loop.detach(); // the slot still names the device, but nothing is behind it
  const err = await storage.format(loop.device, { label: 'LOST' }).catch((e: unknown) => e);
  t.match(err, { code: 'ETOOL', name: 'StorageError' });
  const e = err as { tool: string; exitCode: number; stderr: string; message: string };
  t.ok(['blockdev', 'wipefs', 'mkfs.exfat'].includes(e.tool), `tool named: ${e.tool}`);
  t.not(e.exitCode, 0);
  t.ok(e.stderr.length > 0, `stderr carried: ${e.stderr.trim()}`);
  t.match(e.message, e.tool);
});

t.test('unmount of a busy mount: EBUSY with noLazy, else lazy with a warning', async (t) => {
  if (!requireRoot(t)) return;
  const { loop, storage, warnings, dir } = await setup(t);
  await storage.format(loop.device, { label: 'BUSY' });
  const m = await storage.mount(loop.device, { mountpoint: path.join(dir, 'busy') });
  t.equal(m.driver, 'fuse', 'exfat-fuse here (no kernel exfat)');
  // A process whose working directory is inside the mount keeps it busy.
  const holder = (await import('node:child_process')).spawn('sleep', ['30'], { cwd: m.mountpoint });
  t.teardown(() => holder.kill());
  await new Promise((r) => holder.once('spawn', r));
  await t.rejects(storage.unmount(loop.device, { timeoutMs: 300, noLazy: true }), {
    code: 'EBUSY',
    message: /busy/,
  });
  t.same(warnings, []);
  await storage.unmount(loop.device, { timeoutMs: 300 });
  t.match(warnings, [/lazy unmount/]);
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  t.notMatch(mounts, m.mountpoint, 'gone from the mount table');
});

t.test(
  'waitReleased: false while another opener holds the device, true once it lets go',
  async (t) => {
    if (!requireRoot(t)) return;
    const { loop, storage, dir } = await setup(t);
    // A process holding the device exclusively, as an exfat-fuse daemon finishing its unmount.
    const { spawn } = await import('node:child_process');
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
       fs.openSync(process.argv[1], fs.constants.O_RDONLY | fs.constants.O_EXCL);
       process.stdout.write('held\\n');
       setInterval(() => {}, 1e9);`,
        loop.device,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.teardown(() => holder.kill());
    await new Promise((r) => holder.stdout.once('data', r));
    t.equal(await waitReleased(loop.device, 200), false, 'held: still busy at the deadline');
    const exited = new Promise((r) => holder.once('exit', r));
    const released = waitReleased(loop.device, 30_000);
    holder.kill();
    await exited;
    t.equal(await released, true, 'released once the holder exited');
    // After a plain unmount the device is free at once for the next mount.
    await storage.format(loop.device, { label: 'AGAIN' });
    for (let i = 0; i < 3; i++) {
      await storage.mount(loop.device, { mountpoint: path.join(dir, 'again') });
      await storage.unmount(loop.device, { noLazy: true });
      t.equal(await waitReleased(loop.device, 0), true, `free right after unmount ${i + 1}`);
    }
  },
);

t.test('start() finds the tools', async (t) => {
  if (!requireRoot(t)) return;
  const { storage } = await setup(t);
  await storage.start();
  t.pass('mkfs.exfat, fsck.exfat, blockdev, wipefs, blkid, mount and a mount driver exist');
});
