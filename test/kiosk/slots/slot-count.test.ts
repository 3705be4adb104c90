import t from 'tap';
import { SlotCountError } from '../../../kiosk/slots/errors.js';
import { kit } from '../fixtures/kit.js';

t.test('lowering slots.count removes the empty slots above it', async (t) => {
  const k = kit(t);
  k.slots.ensureSlots(6);
  t.same(k.slots.retireAbove(4), [5, 6]);
  t.same(
    k.slots.list().map((s) => s.slot),
    [1, 2, 3, 4],
  );
  t.same(k.slots.retireAbove(4), [], 'nothing more to remove');
});

t.test(
  'a slot above the new count that holds a disk stops it, and nothing is removed',
  async (t) => {
    const k = kit(t);
    k.slots.ensureSlots(6);
    k.db
      .prepare("INSERT INTO disks (disk_id, updated_at) VALUES ('disk-6', '2026-01-01T00:00:00Z')")
      .run();
    k.slots.transition({
      slot: 6,
      from: 'empty',
      to: 'loaded',
      reason: 'disk put in',
      set: { diskId: 'disk-6' },
    });
    const err = (() => {
      try {
        k.slots.retireAbove(4);
      } catch (e) {
        return e;
      }
    })();
    t.ok(err instanceof SlotCountError, 'a SlotCountError');
    t.match((err as SlotCountError).code, 'ESLOTCOUNT');
    t.match(
      (err as Error).message,
      /slots\.count is 4 but slot 6 \(loaded, disk-6\) still holds a disk or work: put the old slots\.count back/,
    );
    t.same(
      k.slots.list().map((s) => s.slot),
      [1, 2, 3, 4, 5, 6],
      'slot 5 (empty) is not removed either',
    );
  },
);
