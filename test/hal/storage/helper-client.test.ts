// The storage helper client: the wire protocol against a fake helper and against the
// image's real storage-helper script, and RealStorage routing its privileged steps
// through a helper socket (a loop device stands in for a slot disk; root only).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { SimDrives } from '../../../hal/drives/sim.js';
import { HelperOps, StorageHelperClient } from '../../../hal/storage/helper-client.js';
import { DirectOps } from '../../../hal/storage/privileged.js';
import { RealStorage } from '../../../hal/storage/real.js';
import { StorageError } from '../../../hal/storage/types.js';
import { createLoopDisk, requireRoot } from '../../helpers/loop-device.js';

const REAL_HELPER = fileURLToPath(
  new URL('../../../images/rootfs/usr/libexec/disk-kiosk/storage-helper', import.meta.url),
);

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'storage-helper-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A helper socket whose answer comes from `answer(args)`; records every request. */
async function fakeHelper(
  t: Test,
  answer: (args: string[]) => Promise<string> | string,
): Promise<{ socketPath: string; requests: string[][] }> {
  const socketPath = path.join(await tempDir(t), 'helper.sock');
  const requests: string[][] = [];
  // allowHalfOpen: the client ends its side once the request is sent.
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', async (chunk: string) => {
      buf += chunk;
      const end = buf.indexOf('\n\n');
      if (end < 0) return;
      const args = buf.slice(0, end).split('\n');
      requests.push(args);
      sock.end(await answer(args));
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { socketPath, requests };
}

t.test('request: one argument per line, an empty line; exit code and output parsed', async (t) => {
  const { socketPath, requests } = await fakeHelper(t, (args) =>
    args[0] === 'flush' ? 'done\nexit 0\n' : 'storage-helper: no such disk\nexit 2\n',
  );
  const client = new StorageHelperClient({ socketPath });
  t.same(await client.request(['flush', '/dev/sdb']), { exitCode: 0, output: 'done' });
  t.same(requests, [['flush', '/dev/sdb']]);
  t.equal(await client.run(['flush', '/dev/sdb']), 'done');
  const refused = await client.run(['setro', '/dev/sdc']).catch((e: unknown) => e);
  t.ok(refused instanceof StorageError);
  t.equal((refused as StorageError).code, 'ENOTSLOTDISK');
  t.match((refused as StorageError).message, /storage-helper: no such disk/);
});

t.test('run: a failing tool rejects ETOOL with its exit code and output', async (t) => {
  const { socketPath } = await fakeHelper(t, () => 'mount: wrong fs type\nexit 32\n');
  const err = (await new StorageHelperClient({ socketPath })
    .run(['mount', '/dev/sdb1', 'slot-1'], 'mounting slot 1')
    .catch((e: unknown) => e)) as StorageError;
  t.ok(err instanceof StorageError);
  t.equal(err.code, 'ETOOL');
  t.equal(err.exitCode, 32);
  t.equal(err.tool, 'mount');
  t.match(err.message, /while mounting slot 1 \(exit 32\): mount: wrong fs type/);
});

t.test('unreachable socket, missing exit line, timeout, bad arguments', async (t) => {
  const dir = await tempDir(t);
  const gone = new StorageHelperClient({ socketPath: path.join(dir, 'none.sock') });
  await t.rejects(gone.request(['flush', '/dev/sdb']), {
    code: 'ETOOL',
    message: /disk-kiosk-storage\.socket/,
  });
  const noExit = await fakeHelper(t, () => 'half an answer');
  await t.rejects(new StorageHelperClient({ socketPath: noExit.socketPath }).request(['x']), {
    code: 'ETOOL',
    message: /without an exit status: half an answer/,
  });
  const silent = path.join(dir, 'silent.sock');
  const server = net.createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(silent, resolve));
  t.teardown(() => {
    server.close();
  });
  await t.rejects(new StorageHelperClient({ socketPath: silent }).request(['flush', 'x'], 200), {
    code: 'ETOOL',
    message: /no answer within 200 ms/,
  });
  await t.rejects(gone.request(['format', '/dev/sdb', 'A\nB']), { code: 'EINVAL' });
  await t.rejects(gone.request(['umount', '']), { code: 'EINVAL' });
});

t.test('the image storage-helper script speaks the same protocol', async (t) => {
  const socketPath = path.join(await tempDir(t), 'real-helper.sock');
  // As systemd's Accept=yes socket does: one helper process per connection, the
  // connection as its stdin and stdout.
  const server = net.createServer((sock) => {
    const child = spawn(REAL_HELPER, ['--serve'], { stdio: [sock, sock, 'ignore'] });
    child.on('exit', () => sock.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = new StorageHelperClient({ socketPath });
  const a = await client.request(['mount', '/dev/mmcblk0p2', 'x']);
  t.equal(a.exitCode, 2);
  t.match(a.output, /only slot disks/);
  await t.rejects(client.run(['umount', 'slot-3']), {
    code: 'ENOTSLOTDISK',
    message: /nothing is mounted at .*slot-3/,
  });
  await t.rejects(client.run(['umount', 'slot-3', 'now']), {
    code: 'ENOTSLOTDISK',
    message: /usage: umount NAME \[lazy\]/,
  });
  await t.rejects(client.run(['format', '/dev/sdzz', 'BAD*LABEL']), {
    code: 'ENOTSLOTDISK',
    message: /not a block device/,
  });
  // Block images: only the cache's image files, by their exact name.
  await t.rejects(client.run(['mount-image', '/etc/shadow', 'image-x']), {
    code: 'ENOTSLOTDISK',
    message: /only \/var\/lib\/disk-kiosk\/cache\/images\/img-<32 hex digits>\.img/,
  });
  await t.rejects(
    client.run([
      'mount-image',
      '/var/lib/disk-kiosk/cache/images/img-../../../../etc/x.img',
      'image-x',
    ]),
    { code: 'ENOTSLOTDISK', message: /refused/ },
  );
  await t.rejects(
    client.run([
      'mount-image',
      `/var/lib/disk-kiosk/cache/images/img-${'a'.repeat(32)}.img`,
      'image-x',
    ]),
    { code: 'ENOTSLOTDISK', message: /is not a regular file/ },
  );
});

t.test('HelperOps: mount names below the helper mount root only; lazy umount', async (t) => {
  const { socketPath, requests } = await fakeHelper(t, () => 'exit 0\n');
  const ops = new HelperOps({
    client: new StorageHelperClient({ socketPath }),
    mountRoot: '/run/disk-kiosk-mnt',
  });
  const m = { readOnly: true, uid: 5, gid: 5, driver: 'kernel' as const };
  await ops.mount('/dev/sdb', '/run/disk-kiosk-mnt/slot-4', m, 'mounting');
  await ops.umount('/run/disk-kiosk-mnt/slot-4', true, 'unmounting');
  await ops.mkfsExfat('/dev/sdb', 'MOVIES 2', 'formatting');
  await ops.setReadOnlyFlag('/dev/sdb', false);
  await ops.mountImage('/var/cache/i.img', '/run/disk-kiosk-mnt/image-1', m, 'mounting');
  t.same(requests, [
    ['mount', '/dev/sdb', 'slot-4', 'ro'],
    ['umount', 'slot-4', 'lazy'],
    ['format', '/dev/sdb', 'MOVIES 2'],
    ['setrw', '/dev/sdb'],
    ['mount-image', '/var/cache/i.img', 'image-1', 'ro'],
  ]);
  await t.rejects(ops.mount('/dev/sdb', '/mnt/elsewhere/slot-4', m, 'mounting'), {
    code: 'EINVAL',
    message: /must be \/run\/disk-kiosk-mnt\/NAME/,
  });
  await t.rejects(ops.umount('/run/disk-kiosk-mnt/a/b', false, 'x'), { code: 'EINVAL' });
  t.equal(requests.length, 5, 'refused mount points never reach the helper');
});

t.test(
  'RealStorage with helperSocket does format, mount, read-only flag through the helper',
  async (t) => {
    if (!requireRoot(t)) return;
    const dir = await tempDir(t);
    const mountRoot = path.join(dir, 'mnt');
    const loop = await createLoopDisk({ sizeMiB: 16, t });
    const drives = new SimDrives({ pollIntervalMs: 60_000 });
    t.teardown(() => drives.stop());
    await drives.insert(3, { device: loop.device, serial: 'HELPER' });
    // The stand-in helper does what the image's helper does, with the tools this machine
    // has (exfat-fuse: no kernel exFAT driver is assumed here).
    const direct = new DirectOps();
    const at = (name: string) => path.join(mountRoot, name);
    const { socketPath, requests } = await fakeHelper(t, async ([verb, a = '', b = '']) => {
      try {
        if (verb === 'wipefs') await direct.wipeSignatures(a, 'helper');
        else if (verb === 'format') await direct.mkfsExfat(a, b, 'helper');
        else if (verb === 'mount')
          await direct.mount(a, at(b), { readOnly: false, uid: 0, gid: 0, driver: 'fuse' }, 'h');
        else if (verb === 'umount') await direct.umount(at(a), b === 'lazy', 'helper');
        else if (verb === 'setro' || verb === 'setrw')
          await direct.setReadOnlyFlag(a, verb === 'setro');
        else if (verb === 'flush') await direct.flushBuffers(a);
        else return `storage-helper: unknown verb '${verb}'\nexit 2\n`;
        return 'exit 0\n';
      } catch (err) {
        return `${(err as Error).message}\nexit 1\n`;
      }
    });
    const storage = new RealStorage({
      resolveSlotDisk: (d) => drives.resolveSlotDisk(d),
      mountRoot,
      helperSocket: socketPath,
    });
    await storage.start();
    await storage.format(loop.device, { label: 'VIAHELPER' });
    t.same((await storage.probe(loop.device)).label, 'VIAHELPER', 'formatted by the helper');
    const info = await storage.mount(loop.device);
    t.equal(info.mountpoint, at('slot-3'));
    await storage.unmount(loop.device);
    await storage.setReadOnly(loop.device, true);
    t.equal(await storage.isReadOnly(loop.device), true);
    await storage.setReadOnly(loop.device, false);
    await storage.quickWipe(loop.device);
    t.same(await storage.probe(loop.device), {}, 'signatures gone after the quick wipe');
    t.same(
      requests.map((r) => r[0]),
      ['wipefs', 'format', 'mount', 'umount', 'setro', 'setrw', 'wipefs', 'flush'],
    );
    t.same(requests[2], ['mount', loop.device, 'slot-3']);
  },
);

t.test(
  'RealStorage with helperSocket: start() fails clearly when the socket is missing',
  async (t) => {
    const dir = await tempDir(t);
    const storage = new RealStorage({
      resolveSlotDisk: async () => undefined,
      helperSocket: path.join(dir, 'missing.sock'),
    });
    await t.rejects(storage.start(), { code: 'ETOOL', message: /disk-kiosk-storage\.socket/ });
  },
);
