// Every SlotStateChanged carries the slot's snapshot, taken in the transaction that changed it
// (after the caller's `also` writes), with the per-slot version the hub orders by.
import t from 'tap';
import { inventorySnapshot, slotSnapshot } from '../../../kiosk/slots/inventory.js';
import type { SlotSnapshot, SlotStateChangedData } from '../../../protocol/index.js';
import { kit } from '../fixtures/kit.js';

function changes(k: ReturnType<typeof kit>): SlotStateChangedData[] {
  return k.outbox
    .peek(1000, 0)
    .filter((e) => e.type === 'SlotStateChanged')
    .map((e) => e.data as SlotStateChangedData);
}

t.test('transitions and updates carry snapshots with increasing versions', async (t) => {
  const k = kit(t, 2);
  const now = '2024-01-01T00:00:00.000Z';
  k.slots.transition({
    slot: 1,
    from: 'empty',
    to: 'loaded',
    reason: 'stocked',
    set: { diskId: 'd1' },
    also: (db) =>
      db
        .prepare(
          'INSERT INTO disks (disk_id, usb_serial, capacity_bytes, updated_at) VALUES (?, ?, ?, ?)',
        )
        .run('d1', 'SER1', 64e9, now),
  });
  k.slots.transition({
    slot: 1,
    from: 'loaded',
    to: 'preparing',
    reason: 'cloning',
  });
  k.slots.transition({
    slot: 1,
    from: 'preparing',
    to: 'ready',
    reason: 'cloned',
    also: (db) =>
      db
        .prepare("UPDATE disks SET content_id = 'c1', content_version = 'v2' WHERE disk_id = 'd1'")
        .run(),
  });
  k.slots.update({ slot: 1, expected: 'ready', set: { writeProtect: true }, reason: 'wp on' });

  const evs = changes(k);
  t.same(
    evs.map((e) => [e.from, e.to]),
    [
      ['empty', 'loaded'],
      ['loaded', 'preparing'],
      ['preparing', 'ready'],
      ['ready', 'ready'],
    ],
    'update() emits from === to',
  );
  const versions = evs.map((e) => e.snapshot?.version ?? -1);
  t.same(versions, [1, 2, 3, 4], 'one version per change, increasing');
  t.same(evs[0]?.snapshot, {
    slot: 1,
    state: 'loaded',
    diskId: 'd1',
    diskSerial: 'SER1',
    capacityBytes: 64e9,
    writeProtect: false,
    version: 1,
  } satisfies SlotSnapshot);
  t.match(
    evs[2]?.snapshot,
    { state: 'ready', contentId: 'c1', contentVersion: 'v2' },
    'written by also',
  );
  t.match(evs[3]?.snapshot, { state: 'ready', writeProtect: true, contentId: 'c1', version: 4 });
  t.equal(evs[3]?.reason, 'wp on');

  const inv = inventorySnapshot(k.db, k.clock);
  t.same(inv.slots[0], slotSnapshot(k.db, 1), 'Inventory reports the same snapshot');
  t.equal(inv.slots[0]?.version, 4);
  t.same(inv.slots[1], { slot: 2, state: 'empty', writeProtect: false, version: 0 });
  t.equal(slotSnapshot(k.db, 9), undefined, 'no such slot');
});

t.test('a failed transition appends nothing', async (t) => {
  const k = kit(t, 1);
  const before = k.outbox.depth();
  t.throws(() =>
    k.slots.transition({
      slot: 1,
      from: 'empty',
      to: 'loaded',
      set: { diskId: 'd1' },
      also: () => {
        throw new Error('boom');
      },
    }),
  );
  t.equal(k.outbox.depth(), before);
  t.equal(k.slots.get(1).version, 0);
});
