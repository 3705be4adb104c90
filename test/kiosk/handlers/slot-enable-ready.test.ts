// Re-enabling a slot keeps a ready disk ready: EnableSlot on a disabled slot whose disk's
// identity file and content check out (quick check: identity, manifest, every file's size)
// brings it back `ready` with its content, as the hub then sees it in the SlotStateChanged
// snapshot; a disk without its identity or with a file of the wrong size comes back `loaded`
// and its recorded content is forgotten. kioskd on simulated hardware with directory disks.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { dirDiskDataDir } from '../../../hal/drives/dir-disk.js';
import type { SimDrives } from '../../../hal/drives/index.js';
import { writeIdentity } from '../../../kiosk/cloning/identity.js';
import type { ContentManifest } from '../../../kiosk/content/manifest.js';
import { KIOSK_ID, type Rig, startRig } from '../daemon/harness.js';
import { startCtlRig } from '../kioskctl/ctl-rig.js';

const FILES: Record<string, Buffer> = {
  'films/one.bin': Buffer.alloc(3000, 1),
  'films/two.bin': Buffer.alloc(500, 2),
};

const manifest: ContentManifest = {
  format: 1,
  contentId: 'c1',
  version: '1',
  title: 'Films',
  files: Object.entries(FILES).map(([p, b]) => ({
    path: p,
    size: b.length,
    sha256: createHash('sha256').update(b).digest('hex'),
  })),
  totalBytes: Object.values(FILES).reduce((n, b) => n + b.length, 0),
};

/**
 * A ready disk `disk-<slot>` holding c1@1 (kioskd's records) on a directory disk; `prepared`
 * writes the files and the identity file as a clone would, else the disk is blank.
 */
async function readyDisk(rig: Rig, slot: number, prepared: boolean): Promise<string> {
  const drives = rig.daemon.hardware.drives as SimDrives;
  const storage = rig.daemon.hardware.storage;
  const device = await drives.insert(slot, {
    dir: path.join(rig.dir, `disk-${slot}`),
    serial: `SER${slot}`,
  });
  for (let i = 0; !(await drives.diskForSlot(slot)); i++) {
    if (i > 400) throw new Error(`the drive scan never saw the disk in slot ${slot}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await storage.format(device, { label: 'FILMS' });
  if (prepared) {
    const mnt = await storage.mount(device, {});
    for (const [p, b] of Object.entries(FILES)) {
      const f = path.join(mnt.mountpoint, ...p.split('/'));
      await mkdir(path.dirname(f), { recursive: true });
      await writeFile(f, b);
    }
    await writeIdentity(mnt.mountpoint, {
      format: 1,
      diskId: `disk-${slot}`,
      contentId: 'c1',
      contentVersion: '1',
      preparedAt: new Date().toISOString(),
      kioskId: KIOSK_ID,
      writeProtect: false,
      manifest,
    });
    await storage.unmount(device);
  }
  rig.stock(slot);
  return device;
}

const content = (rig: Rig, slot: number) =>
  (
    rig.daemon.db
      .prepare(
        'SELECT d.content_id AS c FROM slots s JOIN disks d ON d.disk_id = s.disk_id WHERE s.slot = ?',
      )
      .get(slot) as { c: string | null }
  ).c;

async function disableEnable(t: Test, rig: Rig, slot: number) {
  const id = () => randomUUID();
  t.same(await rig.hub.call('DisableSlot', { commandId: id(), slot }), { status: 'Accepted' });
  t.equal(rig.daemon.slots.get(slot).state, 'disabled');
  t.same(await rig.hub.call('EnableSlot', { commandId: id(), slot }), { status: 'Accepted' });
}

t.test('EnableSlot keeps a ready disk ready when its identity and content check out', async (t) => {
  const rig = await startRig(t);
  await readyDisk(rig, 1, true);
  await disableEnable(t, rig, 1);
  t.equal(rig.daemon.slots.get(1).state, 'ready', 'ready again (before: loaded)');
  t.equal(content(rig, 1), 'c1');
  await rig.until('the hub got the ready snapshot', () =>
    rig
      .eventsOf('SlotStateChanged')
      .some(
        (e) =>
          e.slot === 1 &&
          e.from === 'disabled' &&
          e.to === 'ready' &&
          e.snapshot?.contentId === 'c1' &&
          e.snapshot?.contentVersion === '1',
      ),
  );
});

t.test('a disk that does not check out comes back loaded, its content forgotten', async (t) => {
  const rig = await startRig(t);
  await readyDisk(rig, 1, false); // recorded ready, but blank: no identity file
  const dev = await readyDisk(rig, 2, true);
  await truncate(path.join(dirDiskDataDir(dev), 'films', 'two.bin'), 10); // a file cut short
  await disableEnable(t, rig, 1);
  await disableEnable(t, rig, 2);
  t.equal(rig.daemon.slots.get(1).state, 'loaded');
  t.equal(rig.daemon.slots.get(2).state, 'loaded');
  t.equal(content(rig, 1), null, 'no identity: content forgotten');
  t.equal(content(rig, 2), null, 'wrong size: content forgotten');
  await rig.until('both reported to the hub', () =>
    [1, 2].every((slot) =>
      rig
        .eventsOf('SlotStateChanged')
        .some((e) => e.slot === slot && e.from === 'disabled' && e.to === 'loaded'),
    ),
  );
  t.match(
    rig.eventsOf('SlotStateChanged').find((e) => e.slot === 2 && e.from === 'disabled')?.reason,
    /did not check out: films\/two.bin is 10 bytes, not 500/,
  );
});

t.test('kioskctl slot enable keeps a ready disk ready the same way', async (t) => {
  const rig = await startCtlRig(t);
  await readyDisk(rig, 1, true);
  await readyDisk(rig, 2, false);
  for (const slot of ['1', '2']) {
    t.equal((await rig.ctl(['slot', 'disable', slot])).code, 0);
    t.equal((await rig.ctl(['slot', 'enable', slot])).code, 0);
  }
  t.equal(rig.daemon.slots.get(1).state, 'ready', 'checked out: ready');
  t.equal(rig.daemon.slots.get(2).state, 'loaded', 'blank: loaded');
  t.equal(content(rig, 1), 'c1');
  t.equal(content(rig, 2), null);
});
