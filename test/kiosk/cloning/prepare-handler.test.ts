import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createDiskCheckService } from '../../../kiosk/cloning/disk-check.js';
import type { SlotDiskLocator } from '../../../kiosk/cloning/disk-records.js';
import { createPrepareHandler } from '../../../kiosk/cloning/prepare-handler.js';
import { silentLogger } from '../../../kiosk/log.js';
import type { PrepareDiskRequest } from '../../../protocol/index.js';
import { mixedSpec } from '../../helpers/content-fixtures.js';
import { requireRoot } from '../../helpers/loop-device.js';
import { type Kit, kit, kitDeps, loadDisk, openKit, tempDir } from '../fixtures/kit.js';
import { prepareRequest, unsignedSig } from './fixtures/prepare-request.js';
import { keys, makeContent, makeRig, type Rig } from './fixtures/rig.js';

const sig = unsignedSig;
const request = (o: Partial<PrepareDiskRequest> = {}) =>
  prepareRequest({ contentId: 'mixed', contentVersion: '1', minCapacityBytes: 0 }, o);

function locator(rig: Rig, sizes: Record<number, number>): SlotDiskLocator {
  return async (slot) => {
    const d = rig.disks.get(slot);
    return d
      ? { device: d.device, capacityBytes: (sizes[slot] ?? 0) * 2 ** 20, serial: `SER${slot}` }
      : undefined;
  };
}

const load = (k: Kit, slot: number, diskId: string) => loadDisk(k, slot, diskId);

const events = (k: Kit, type: string) => k.outbox.peek(10_000).filter((e) => e.type === type);

t.test(
  'PrepareDisk end to end: progress, completed, slot reserved; idempotent; returned write-protected disk verified back to ready',
  async (t) => {
    if (!requireRoot(t, ['rsync'])) return;
    const k = kit(t);
    const rig = await makeRig(t, k.db, k.clock);
    const c = makeContent('mixed', '1', mixedSpec(), keys.privateKeyPem);
    await rig.addContent(c);
    await rig.addDisk(1, 64);
    load(k, 1, 'disk-A');
    const locateDisk = locator(rig, { 1: 64 });
    const h = createPrepareHandler({
      ...kitDeps(k),
      cache: rig.cache,
      pipeline: rig.pipeline,
      locateDisk,
      options: { progressIntervalMs: 0 },
    });
    await h.recover();
    const req = request();
    t.same(await h.handle(req), { status: 'Accepted' });
    t.same(await h.handle(req), { status: 'Accepted' }, 'a repeat is answered, not run again');
    await h.idle();
    const progress = events(k, 'PrepareProgress');
    t.ok(progress.length >= 4, `${progress.length} progress events`);
    t.same(
      [...new Set(progress.map((e) => (e.data as { step: string }).step))],
      ['formatting', 'copying', 'flushing', 'verifying', 'configuring'],
    );
    const done = events(k, 'PrepareCompleted');
    t.equal(done.length, 1, 'exactly one PrepareCompleted');
    t.match(done[0]?.data, {
      commandId: req.commandId,
      reservationId: req.reservationId,
      slot: 1,
      diskId: 'disk-A',
      contentId: 'mixed',
      contentVersion: '1',
    });
    const s = k.slots.get(1);
    t.equal(s.state, 'reserved');
    t.equal(s.reservationId, req.reservationId);
    t.equal(
      (
        k.db
          .prepare('SELECT state FROM reservations WHERE reservation_id = ?')
          .get(req.reservationId) as { state: string }
      ).state,
      'held',
    );
    t.same(await h.handle(req), { status: 'Accepted' });
    await h.idle();
    t.equal(
      events(k, 'PrepareCompleted').length,
      1,
      'still one PrepareCompleted after a late repeat',
    );
    t.same(
      (await h.handle({ ...req, commandId: randomUUID() })).status,
      'Rejected',
      'same reservation, other command: rejected',
    );

    // The renter takes it and brings it back; it was write-protected: verify -> ready.
    k.slots.transition({ slot: 1, from: 'reserved', to: 'dispensing', reason: 'test' });
    k.slots.transition({ slot: 1, from: 'dispensing', to: 'empty', reason: 'taken' });
    k.slots.transition({
      slot: 1,
      from: 'empty',
      to: 'returned',
      reason: 'back',
      set: { diskId: 'disk-A', writeProtect: true },
    });
    const checks = createDiskCheckService({
      db: k.db,
      slots: k.slots,
      clock: k.clock,
      log: silentLogger(),
      storage: rig.storage,
      relay: rig.relay,
      locateDisk,
      manifestOf: (id, v) => rig.cache.complete(id, v),
    });
    t.equal(await checks.checkReturned(1), 'ready');
    t.equal(k.slots.get(1).state, 'ready');
    t.match(events(k, 'DiskChecked').at(-1)?.data, { slot: 1, diskId: 'disk-A', result: 'ready' });

    // A WipeDisk on it: -> loaded, WipeCompleted.
    const wipeId = randomUUID();
    t.same(await checks.handleWipe({ commandId: wipeId, slot: 1, mode: 'quick', signature: sig }), {
      status: 'Accepted',
    });
    await checks.idle();
    t.equal(k.slots.get(1).state, 'loaded');
    t.match(events(k, 'WipeCompleted').at(-1)?.data, {
      commandId: wipeId,
      slot: 1,
      diskId: 'disk-A',
      mode: 'quick',
    });
    t.equal(
      (await rig.storage.probe(rig.disks.get(1)?.device ?? '')).fsType,
      undefined,
      'no filesystem left',
    );

    // A WipeDisk for a slot this kiosk does not have is refused with a reason, not an error.
    t.same(
      await checks.handleWipe({ commandId: randomUUID(), slot: 99, mode: 'quick', signature: sig }),
      { status: 'Rejected', reason: 'slot 99 does not exist on this kiosk' },
    );
  },
);

t.test(
  'PrepareDisk forced failures: disk too small -> PrepareFailed, slot back to loaded; no disk -> PrepareFailed',
  async (t) => {
    if (!requireRoot(t, ['rsync'])) return;
    const k = kit(t);
    const rig = await makeRig(t, k.db, k.clock);
    const c = makeContent('fat', '1', { 'a.bin': 7 * 2 ** 20 }, keys.privateKeyPem);
    await rig.addContent(c);
    await rig.addDisk(2, 8);
    load(k, 2, 'disk-small');
    const h = createPrepareHandler({
      ...kitDeps(k),
      cache: rig.cache,
      pipeline: rig.pipeline,
      locateDisk: locator(rig, { 2: 8 }),
    });
    const req = request({ contentId: 'fat', writeProtect: false });
    await h.handle(req);
    await h.idle();
    const failed = events(k, 'PrepareFailed');
    t.equal(failed.length, 1);
    t.match(failed[0]?.data, { commandId: req.commandId, slot: 2, code: 'ETOOSMALL' });
    t.equal(k.slots.get(2).state, 'loaded', 'slot back in stock, known state');
    t.equal(
      (
        k.db
          .prepare('SELECT state FROM reservations WHERE reservation_id = ?')
          .get(req.reservationId) as { state: string }
      ).state,
      'failed',
    );
    const req2 = request({ contentId: 'fat', minCapacityBytes: 2 ** 40 });
    await h.handle(req2);
    await h.idle();
    t.match(events(k, 'PrepareFailed').at(-1)?.data, {
      commandId: req2.commandId,
      code: 'ENODISK',
    });
  },
);

t.test(
  'a prepare killed mid-copy restarts cleanly; the disk is not ready until a full prepare succeeds',
  async (t) => {
    if (!requireRoot(t, ['rsync'])) return;
    const dir = tempDir(t, 'crash-');
    const k0 = openKit(dir);
    const rig = await makeRig(t, k0.db, k0.clock);
    // The child uses <dir>/cache: import the content there.
    const c = makeContent(
      'crash',
      '1',
      { 'one.bin': 24 * 2 ** 20, 'two.bin': 24 * 2 ** 20, 'small.txt': 100 },
      keys.privateKeyPem,
    );
    const { ContentCache } = await import('../../../kiosk/content/content-cache.js');
    const cache = new ContentCache({
      db: k0.db,
      clock: k0.clock,
      log: silentLogger(),
      options: {
        cacheDir: path.join(dir, 'cache'),
        hubPublicKey: keys.publicKeyPem,
        maxBytes: 2 ** 32,
      },
    });
    await cache.start();
    const { writeUsbStick } = await import('../../helpers/content-fixtures.js');
    await writeUsbStick(path.join(dir, 'stick'), c);
    await cache.importFromDirectory(path.join(dir, 'stick'));
    const disk = await rig.addDisk(1, 96);
    load(k0, 1, 'disk-C');
    k0.db.close();
    const req = request({ contentId: 'crash', writeProtect: false });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/prepare-child.ts', import.meta.url)),
        dir,
        disk.device,
        JSON.stringify(req),
        keys.publicKeyPem,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // Watch the database for the copy to start, then kill the child.
    const k = openKit(dir);
    t.teardown(() => k.db.close());
    const deadline = Date.now() + 60_000;
    while (
      !events(k, 'PrepareProgress').some((e) => (e.data as { step: string }).step === 'copying')
    ) {
      if (Date.now() > deadline || child.exitCode !== null) t.fail(`copy never started: ${stderr}`);
      if (Date.now() > deadline || child.exitCode !== null) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    t.equal(k.slots.get(1).state, 'preparing', 'killed while preparing');
    t.equal(events(k, 'PrepareCompleted').length, 0);
    await rig.storage.unmount(disk.device).catch(() => undefined); // the dead child's exfat-fuse mount
    const cache2 = new ContentCache({
      db: k.db,
      clock: k.clock,
      log: silentLogger(),
      options: {
        cacheDir: path.join(dir, 'cache'),
        hubPublicKey: keys.publicKeyPem,
        maxBytes: 2 ** 32,
      },
    });
    await cache2.start();
    const { ClonePipeline } = await import('../../../kiosk/cloning/pipeline.js');
    const pipeline = new ClonePipeline({
      storage: rig.storage,
      relay: rig.relay,
      cache: { blobPath: (x) => cache2.blobPath(x), stagingDir: cache2.blobs.stagingDir },
      kioskId: 'kiosk-1',
      clock: k.clock,
      log: silentLogger(),
      options: { reserveBytes: () => 2 * 2 ** 20 },
    });
    const h = createPrepareHandler({
      ...kitDeps(k),
      cache: cache2,
      pipeline,
      locateDisk: locator(rig, { 1: 96 }),
    });
    await h.recover();
    t.not(k.slots.get(1).state, 'ready', 'not offered as ready after the restart');
    t.ok(
      events(k, 'SlotStateChanged').some(
        (e) =>
          (e.data as { from: string; to: string }).from === 'preparing' &&
          (e.data as { to: string }).to === 'loaded',
      ),
      'preparing -> loaded on recovery',
    );
    await h.idle();
    t.equal(k.slots.get(1).state, 'reserved', 'the restarted prepare completed');
    t.equal(events(k, 'PrepareCompleted').length, 1);
    t.equal(
      (
        k.db
          .prepare('SELECT attempts FROM prepare_jobs WHERE command_id = ?')
          .get(req.commandId) as { attempts: number }
      ).attempts,
      2,
    );
  },
);
