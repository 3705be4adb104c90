// A reservation's whole life, end to end on REAL loop devices: a real cloud-lite hub (rental
// domain, sandbox payments, content origin with an imported package) and a real kioskd
// (in-process Daemon: board simulator, drives simulator serving a loop device, REAL storage:
// exFAT, mount; image mode: a block image built once, written and verified with O_DIRECT). A renter's reservation makes the hub send PrepareDisk; the
// kiosk downloads the content from the hub's origin, clones and verifies the loop disk and
// holds it; pickup dispenses it; the disk comes back (verified -> ready when write-protected,
// wiped -> loaded when writable), the rental closes; a second reservation holds the verified
// ready disk as it is (nothing copied), a third re-prepares it after its wipe. A reservation
// no disk in the kiosk can satisfy is refused up front (409), unpaid.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { registerImportedContent } from '../../cloud-lite/content/catalog-entry.js';
import { importContentTree } from '../../cloud-lite/content/import-tree.js';
import type { SimDrives } from '../../hal/drives/index.js';
import type { SimulatedMotorBoard } from '../../hal/motor-board/index.js';
import { parseConfig } from '../../kiosk/config.js';
import { Daemon } from '../../kiosk/daemon.js';
import { createLogger, silentLogger } from '../../kiosk/log.js';
import { startRentalHub, waitFor } from '../cloud-lite/rental/helpers/rental-hub.js';
import { createLoopDisk, requireRoot } from '../helpers/loop-device.js';

const MiB = 2 ** 20;
const KIOSK = 'kiosk-prep-1';
const SERIAL = 'LOOP0001';

/** ~2 MB: a few files, unicode names, a nested directory. */
async function contentTree(dir: string): Promise<void> {
  const files: Record<string, number> = {
    'film/part-1.bin': 1_200_000,
    'film/part-2.bin': 700_000,
    'Música/Canción ñ.txt': 1234,
    '日本語/ファイル 名.txt': 321,
    'a/b/c/deep.dat': 65_536,
    'README.txt': 99,
  };
  for (const [p, n] of Object.entries(files)) {
    const f = path.join(dir, ...p.split('/'));
    await mkdir(path.dirname(f), { recursive: true });
    await writeFile(f, randomBytes(n));
  }
}

t.test('prepare, verify, reserve, dispense, return, re-prepare on a loop disk', async (t) => {
  if (!requireRoot(t, ['rsync', 'bmaptool'])) return;
  const hub = await startRentalHub(t);
  const work = await mkdtemp(path.join(os.tmpdir(), 'prepare-e2e-'));
  let daemon: Daemon | undefined;
  const disk = await createLoopDisk({ sizeMiB: 64, dir: work });
  // One teardown, in order: kioskd (unmounts), the loop device, the files.
  t.teardown(async () => {
    await daemon?.stop();
    await disk.detach();
    await rm(work, { recursive: true, force: true });
  });

  // Operator: content package imported into the hub's origin and catalog; disk types.
  const src = path.join(work, 'src');
  await contentTree(src);
  const imported = await importContentTree(
    hub.server.content,
    { source: src, contentId: 'films', version: 'v1', title: 'Films' },
    hub.server.signingKey.privateKey,
  );
  await registerImportedContent(
    hub.server.store,
    imported.signed.manifest,
    { actor: 'test' },
    new Date(),
  );
  for (const [id, cap] of [
    ['t32', 32 * MiB],
    ['t1tb', 1e12],
  ] as const) {
    const d = await hub.admin('POST', '/api/operator/disk-types', {
      id,
      capacityBytes: cap,
      contentId: 'films',
      writeProtect: 'allowed',
      pricePerDayMinor: 200,
      maxDays: 14,
    });
    t.equal(d.status, 201, JSON.stringify(d.body));
  }
  const created = await hub.admin('POST', '/api/operator/kiosks', { id: KIOSK });
  const enrolled = await hub.api('POST', '/api/kiosks/enrol', {
    kioskId: KIOSK,
    token: created.body.enrolmentToken,
  });
  t.equal(enrolled.status, 200);
  await hub.admin('POST', '/api/operator/kiosk-sites', {
    kioskId: KIOSK,
    name: 'Station',
    address: 'Platform 1',
    lat: 52.52,
    lng: 13.4,
  });
  const publicKeyPem = String((await hub.api('GET', '/api/hub/public-key')).body);

  // kioskd: simulated board and drives, REAL storage on the loop device.
  const config = parseConfig(
    {
      kioskId: KIOSK,
      dataDir: path.join(work, 'data'),
      hub: {
        url: hub.wsUrl,
        secret: enrolled.body.secret,
        publicKeyPem,
        backoff: { baseMs: 20, capMs: 200, stableSeconds: 1 },
      },
      slots: { count: 2 },
      hardware: {
        motorBoard: { driver: 'sim', ejectMs: 20, retractMs: 20 },
        gpio: { driver: 'sim', debounceMs: 1 },
        usb: { driver: 'sim', enumerateMs: 1 },
        drives: { driver: 'sim', pollIntervalMs: 50 },
        storage: { driver: 'real', mountRoot: path.join(work, 'mnt') },
      },
      // Image mode: the 64 MiB loop disk is its own capacity class.
      cloning: { progressIntervalMs: 0, rsyncProcesses: 2, image: { classes: [64 * MiB] } },
      reservations: { expiryCheckSeconds: 1 },
      logLevel: 'silent',
    },
    { env: {} },
  );
  const log = process.env.E2E_LOG
    ? createLogger({ kioskId: KIOSK, level: 'debug' })
    : silentLogger();
  daemon = new Daemon({ config, log, env: {}, returnDriveWaitMs: 5000 });
  await daemon.start();
  const d = daemon;
  const sim = (d.hardware.board as SimulatedMotorBoard).sim;
  const drives = d.hardware.drives as SimDrives;
  const state = (slot: number) => d.slots.get(slot).state;
  const until = (what: string, cond: () => boolean, ms = 30_000) =>
    waitFor(what, async () => cond(), ms);
  await until('kiosk online', () => hub.server.hub.isConnected(KIOSK));

  /** A disk pushed into `slot`: USB enumerates it and the slot sensor sees it. */
  const insert = async (slot: number) => {
    await drives.insert(slot, { device: disk.device, serial: SERIAL });
    sim.insertDisk(slot);
  };
  const hubEvents = async (type: string) =>
    (
      await hub.server.store.transaction((tx) => tx.events.listForKiosk(KIOSK, { limit: 10_000 }))
    ).filter((e) => e.type === type);
  const payment = (reservationId: string) =>
    hub.server.store.transaction(async (tx) => {
      const r = await tx.reservations.get(reservationId);
      return r?.paymentId ? tx.payments.get(r.paymentId) : undefined;
    });

  // A technician loads a blank disk: identified, checked (writable -> wiped) -> loaded.
  await insert(1);
  await until('blank disk checked into loaded', () => state(1) === 'loaded');
  const diskId = d.slots.get(1).diskId;
  t.equal(diskId, `disk-${SERIAL}`);

  const me = await hub.renter();
  t.equal((await hub.deposit(me.token)).status, 200);
  const reserve = async (diskTypeId: string, writeProtect: boolean) => {
    const r = await hub.api(
      'POST',
      '/api/reservations',
      { kioskId: KIOSK, diskTypeId, writeProtect, days: 1, card: { useSaved: true } },
      me.token,
      { 'idempotency-key': randomUUID() },
    );
    t.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.reservation.id as string;
  };

  // The hub learns of the loaded disk from the kiosk's SlotStateChanged (with its snapshot).
  await waitFor('hub sees slot 1 loaded', async () => {
    const slots = await hub.server.store.transaction((tx) => tx.slots.list(KIOSK));
    return slots.find((s) => s.slot === 1)?.state === 'loaded';
  });

  // No disk of 1 TB in this kiosk: refused up front, before any payment is authorised.
  const tooBig = await hub.api(
    'POST',
    '/api/reservations',
    { kioskId: KIOSK, diskTypeId: 't1tb', writeProtect: true, days: 1, card: { useSaved: true } },
    me.token,
    { 'idempotency-key': randomUUID() },
  );
  t.equal(tooBig.status, 409, JSON.stringify(tooBig.body));
  t.equal(tooBig.body.error?.code, 'NO_DISK_AVAILABLE');
  t.equal(state(1), 'loaded', 'the disk was not touched');

  /**
   * Reserve, prepare on the kiosk (`copy`: download or cache, format, copy, verify; `hold`: the
   * ready disk already holds the films, nothing copied), pick up, take.
   */
  const rentPrepared = async (
    writeProtect: boolean,
    slot: number,
    how: 'download' | 'cache' | 'hold',
  ) => {
    const id = await reserve('t32', writeProtect);
    const ready = await hub.waitReservation(
      me.token,
      id,
      (r) => r.state === 'ready' || r.state === 'failed',
      'reservation ready',
      60_000, // the first one downloads and builds the image: on a busy machine, many seconds
    );
    t.equal(ready.state, 'ready', JSON.stringify(ready));
    t.equal(ready.slot, slot);
    t.equal(ready.diskId, diskId);
    t.equal(state(slot), 'reserved');
    t.equal(d.slots.get(slot).reservationId, id);
    const steps = new Set(
      (await hubEvents('PrepareProgress'))
        .filter((e) => (e.data as { reservationId: string }).reservationId === id)
        .map((e) => (e.data as { step: string }).step),
    );
    if (how === 'hold') t.same([...steps], [], 'held as it is: nothing copied');
    else {
      for (const s of ['formatting', 'copying', 'verifying'])
        t.ok(steps.has(s), `PrepareProgress ${s} reached the hub`);
      t.equal(steps.has('fetching'), how === 'download', `${how}: fetching reported or not`);
    }
    t.equal(d.slots.get(slot).writeProtect, writeProtect, 'slot write protection as ordered');
    // A held disk gets its read-only flag just after it is reserved.
    await waitFor(
      'read-only flag as ordered',
      async () => (await drives.diskForSlot(slot))?.readOnly === writeProtect,
    );
    const done = (await hubEvents('PrepareCompleted')).filter(
      (e) => (e.data as { reservationId: string }).reservationId === id,
    );
    t.equal(done.length, 1, 'one PrepareCompleted');

    const pick = await hub.api('POST', `/api/reservations/${id}/pickup`, undefined, me.token);
    t.equal(pick.status, 200, JSON.stringify(pick.body));
    await until('disk pushed out', () => !sim.sensors(slot).seated);
    sim.takeDisk(slot);
    await drives.remove(slot);
    const order = await hub.waitOrder(me.token, pick.body.order.id, (o) => o.state === 'completed');
    t.ok(order.rentalId, 'rental opened');
    t.equal((await payment(id))?.state, 'captured', 'captured once the disk was taken');
    await until('slot empty', () => state(slot) === 'empty');
    return { id, rentalId: order.rentalId as string };
  };
  /** DiskChecked events the hub recorded for `slot` with `result`. */
  const checked = async (slot: number, result: string) =>
    (await hubEvents('DiskChecked')).filter(
      (e) =>
        (e.data as { slot: number }).slot === slot &&
        (e.data as { result: string }).result === result,
    ).length;
  const rentalState = async (rentalId: string) =>
    (await hub.api('GET', '/api/me/rentals', undefined, me.token)).body.find(
      (r: { id: string }) => r.id === rentalId,
    )?.state;

  // 1st rental: write-protected. Returned into slot 2: verified -> ready; rental closed.
  const first = await rentPrepared(true, 1, 'download');
  const images = () => d.preparation.cache.images.list();
  t.match(images(), [{ contentId: 'films', version: 'v1', classBytes: 64 * MiB, state: 'ready' }]);
  t.equal(images().length, 1, 'prepared in image mode: one block image built');
  t.equal(await rentalState(first.rentalId), 'open');
  await insert(2);
  await until('returned disk verified', () => state(2) === 'ready');
  t.equal(d.slots.get(2).diskId, diskId, 'identified by its identity file');
  await waitFor('rental closed', async () => (await rentalState(first.rentalId)) === 'returned');
  const returned = (await hubEvents('DiskReturned')).map((e) => e.data as Record<string, unknown>);
  t.match(
    returned.find((r) => r.slot === 2),
    { slot: 2, diskId, identityValid: true, writeProtected: true },
  );
  await waitFor('DiskChecked ready at the hub', async () => (await checked(2, 'ready')) === 1);

  // 2nd rental: writable. The verified ready disk already holds the films: held as it is
  // (the relay is set as ordered at Dispense). Returned into slot 1: writable -> wiped -> loaded.
  const second = await rentPrepared(false, 2, 'hold');
  await insert(1);
  await until('returned writable disk wiped', () => state(1) === 'loaded');
  await waitFor('rental closed', async () => (await rentalState(second.rentalId)) === 'returned');
  // Slot 1's first DiskChecked `loaded` was the blank disk's; this is the second.
  await waitFor('DiskChecked loaded at the hub', async () => (await checked(1, 'loaded')) === 2);
  t.ok(
    (await hubEvents('WipeCompleted')).some((e) => (e.data as { slot: number }).slot === 1),
    'WipeCompleted reached the hub',
  );
  await waitFor('hub sees slot 1 loaded again', async () => {
    const slots = await hub.server.store.transaction((tx) => tx.slots.list(KIOSK));
    return slots.find((s) => s.slot === 1)?.state === 'loaded';
  });

  // 3rd rental: the wiped disk is prepared again, from the kiosk's cache.
  await rentPrepared(false, 1, 'cache');
  t.equal(images().length, 1, 'the re-preparation reused the image');
  t.equal(images()[0]?.state, 'ready');
  await until('outbox drained', () => d.outbox.depth() === 0);
});
