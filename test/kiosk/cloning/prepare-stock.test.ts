// The prepare handler never destroys sellable stock: a reservation holds a ready disk that
// already has its content (nothing copied), else takes a loaded disk; a ready disk of other
// content only when the hub allows it (PrepareDisk `reformatReady`) and while enough of that
// content stays ready, recorded in `ready_reformats`. A slot the hub names is used as named or
// the prepare fails cleanly; concurrent prepares without a named slot never choose the same
// disk. The clone pipeline is a recording fake (the decisions are what is tested; the real
// clone has its own tests).
import t from 'tap';
import type { SlotDiskLocator } from '../../../kiosk/cloning/disk-records.js';
import { createPrepareHandler } from '../../../kiosk/cloning/prepare-handler.js';
import type { ContentManifest } from '../../../kiosk/content/manifest.js';
import type { PrepareDiskRequest } from '../../../protocol/index.js';
import { type Kit, kit, kitDeps, loadDisk } from '../fixtures/kit.js';
import { prepareRequest } from './fixtures/prepare-request.js';

const GB = 1e9;
const request = (o: Partial<PrepareDiskRequest> = {}) =>
  prepareRequest({ contentId: 'course', contentVersion: '1', minCapacityBytes: 32 * GB }, o);

/** A disk in `slot`: loaded (blank) or ready with `content`. */
const stock = (k: Kit, slot: number, content?: string) =>
  loadDisk(k, slot, `disk-${slot}`, { capacityBytes: 64 * GB, ...(content ? { content } : {}) });

function rig(t: Parameters<typeof kit>[0], slots = 4) {
  const k = kit(t, slots);
  const cloned: { slot: number; contentId: string }[] = [];
  const protect: [number, string, boolean][] = [];
  const manifest = (id: string): ContentManifest =>
    ({ contentId: id, version: '1', files: [], totalBytes: 0 }) as unknown as ContentManifest;
  const locateDisk: SlotDiskLocator = async (slot) => ({
    device: `/dev/sim${slot}`,
    capacityBytes: 64 * GB,
    serial: `SER${slot}`,
  });
  const h = createPrepareHandler({
    ...kitDeps(k),
    cache: {
      complete: (id) => manifest(id),
      ensure: async (id) => manifest(id),
      pin: () => undefined,
      unpin: () => undefined,
    },
    pipeline: {
      run: async (job) => {
        await new Promise((r) => setTimeout(r, 5));
        cloned.push({ slot: job.slot, contentId: job.manifest.contentId });
        return {
          diskId: job.diskId,
          preparedAt: new Date().toISOString(),
          verifiedBytes: 0,
          mode: 'file',
        };
      },
    },
    locateDisk,
    protect: async (slot, device, on) => {
      protect.push([slot, device, on]);
    },
  });
  const events = (type: string) =>
    k.outbox
      .peek(10_000)
      .filter((e) => e.type === type)
      .map((e) => e.data as Record<string, unknown>);
  const content = (slot: number) =>
    (
      k.db
        .prepare(
          'SELECT d.content_id AS c FROM slots s LEFT JOIN disks d ON d.disk_id = s.disk_id WHERE s.slot = ?',
        )
        .get(slot) as { c: string | null }
    ).c;
  const reformats = () =>
    k.db.prepare('SELECT * FROM ready_reformats ORDER BY id').all() as Record<string, unknown>[];
  return { k, h, cloned, protect, events, content, reformats };
}

t.test('no slot named: a ready disk of other content is never reformatted', async (t) => {
  const { k, h, cloned, events, content, reformats } = rig(t);
  stock(k, 1, 'films');
  stock(k, 2, 'films');
  const req = request();
  t.same(await h.handle(req), { status: 'Accepted' });
  await h.idle();
  t.match(events('PrepareFailed'), [{ reservationId: req.reservationId, code: 'ENODISK' }]);
  t.same(cloned, [], 'nothing was cloned');
  t.same([k.slots.get(1).state, k.slots.get(2).state], ['ready', 'ready'], 'films stock untouched');
  t.same([content(1), content(2)], ['films', 'films']);
  t.same(reformats(), []);
});

t.test('no slot named: a ready disk with the content is held, nothing copied', async (t) => {
  const { k, h, cloned, protect, events } = rig(t);
  stock(k, 1); // a blank disk: must NOT be used while a ready course disk exists
  stock(k, 2, 'course');
  // Prepared write-protected, reserved writable: the relay is set at Dispense, the disk serves.
  k.db.prepare("UPDATE disks SET write_protected = 1 WHERE disk_id = 'disk-2'").run();
  const req = request({ writeProtect: false });
  await h.handle(req);
  await h.idle();
  t.match(events('PrepareCompleted'), [{ reservationId: req.reservationId, slot: 2 }]);
  t.same(cloned, [], 'nothing copied');
  t.same(events('PrepareProgress'), []);
  t.equal(k.slots.get(2).state, 'reserved');
  t.equal(k.slots.get(1).state, 'loaded', 'the blank disk stays free');
  t.same(protect, [[2, '/dev/sim2', false]], 'write protection set as the reservation orders');
  t.equal(k.slots.get(2).writeProtect, false);
});

t.test('concurrent prepares without a named slot never choose the same disk', async (t) => {
  const { k, h, cloned, events } = rig(t);
  for (const s of [1, 2, 3]) stock(k, s);
  const reqs = [request(), request(), request()];
  await Promise.all(reqs.map((r) => h.handle(r)));
  await h.idle();
  t.same(events('PrepareFailed'), [], 'none failed (before: ESTALESTATE)');
  const slots = events('PrepareCompleted').map((e) => e.slot);
  t.same([...slots].sort(), [1, 2, 3], 'each got its own disk');
  t.equal(cloned.length, 3);
});

t.test('a named slot is used as named', async (t) => {
  const { k, h, cloned, events, content, reformats } = rig(t, 5);
  stock(k, 1, 'films');
  stock(k, 2, 'course');
  stock(k, 3);
  stock(k, 4, 'films');

  // Ready with the content: held without a copy.
  const hold = request({ slot: 2 });
  await h.handle(hold);
  // Loaded: prepared in place, not the ready course disk (already held) nor another slot.
  const prep = request({ slot: 3 });
  await h.handle(prep);
  // Ready films without the hub's allowance: refused, the disk keeps its films.
  const refused = request({ slot: 1 });
  await h.handle(refused);
  // Busy (slot 2 is reserved now): refused, never another slot.
  const busy = request({ slot: 2 });
  await h.handle(busy);
  await h.idle();
  t.match(events('PrepareCompleted'), [
    { reservationId: hold.reservationId, slot: 2 },
    { reservationId: prep.reservationId, slot: 3 },
  ]);
  t.same(cloned, [{ slot: 3, contentId: 'course' }]);
  const failed = events('PrepareFailed');
  t.match(failed.find((f) => f.reservationId === refused.reservationId)?.code, 'ESTOCK');
  t.match(failed.find((f) => f.reservationId === busy.reservationId)?.code, 'ESLOTBUSY');
  t.equal(k.slots.get(1).state, 'ready');
  t.equal(content(1), 'films');
  t.same(reformats(), []);

  // With the allowance, while one other films disk stays ready (slot 4): reformatted, recorded.
  const allowed = request({ slot: 1, reformatReady: { keepReady: 1 } });
  await h.handle(allowed);
  await h.idle();
  t.match(events('PrepareCompleted').at(-1), { reservationId: allowed.reservationId, slot: 1 });
  t.equal(content(1), 'course');
  const rows = reformats();
  t.equal(rows.length, 1);
  t.match(rows[0], {
    slot: 1,
    disk_id: 'disk-1',
    from_content_id: 'films',
    to_content_id: 'course',
    cause: 'reservation',
    command_id: allowed.commandId,
    reservation_id: allowed.reservationId,
    keep_ready: 1,
    ready_left: 1,
  });
  const changed = k.outbox
    .peek(10_000)
    .filter((e) => e.type === 'SlotStateChanged')
    .map((e) => e.data as { slot: number; from: string; to: string; snapshot: { version: number } })
    .find((e) => e.slot === 1 && e.from === 'ready' && e.to === 'preparing');
  t.equal(rows[0]?.slot_version, changed?.snapshot.version, 'matches its SlotStateChanged');

  // The last films disk: the allowance does not reach below keepReady.
  const last = request({ slot: 4, reformatReady: { keepReady: 1 } });
  await h.handle(last);
  await h.idle();
  t.match(events('PrepareFailed').at(-1), { reservationId: last.reservationId, code: 'ESTOCK' });
  t.equal(content(4), 'films');
  t.equal(k.slots.get(4).state, 'ready');
  t.equal(reformats().length, 1);
});
