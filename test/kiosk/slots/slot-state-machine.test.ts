import t from 'tap';
import {
  IllegalTransitionError,
  InvalidTransitionArgsError,
  StaleStateError,
} from '../../../kiosk/slots/errors.js';
import type { SlotFields } from '../../../kiosk/slots/slot-store.js';
import {
  isLegalTransition,
  SLOT_STATES,
  type SlotStateName,
  TRANSITIONS,
} from '../../../kiosk/slots/transitions.js';
import { type Kit, kit } from '../fixtures/kit.js';

/** Puts slot 1 into `state` directly (bypassing the machine) with fields fitting it. */
function force(k: Kit, state: SlotStateName): void {
  k.db
    .prepare(
      "INSERT OR IGNORE INTO disks (disk_id, updated_at) VALUES ('d1', '2024-01-01T00:00:00Z')",
    )
    .run();
  const disk = state === 'empty' ? null : 'd1';
  const resv = state === 'reserved' || state === 'dispensing' ? 'r1' : null;
  k.db
    .prepare(
      'UPDATE slots SET state = ?, disk_id = ?, reservation_id = ?, fault_code = ?, fault_message = ? WHERE slot = 1',
    )
    .run(state, disk, resv, state === 'fault' ? 'EJAM' : null, state === 'fault' ? 'jam' : null);
}

/** Fields a transition into `to` needs. */
function argsFor(to: SlotStateName): SlotFields {
  if (to === 'fault') return { fault: { code: 'EJAM', message: 'motor stalled' } };
  if (to === 'reserved') return { reservationId: 'r1', diskId: 'd1' };
  if (to === 'ready' || to === 'dispensing') return { diskId: 'd1' };
  return {};
}

t.test('the table has no self-transitions and every state leads somewhere', async (t) => {
  for (const s of SLOT_STATES) {
    t.notOk(isLegalTransition(s, s), `${s} -> ${s} is illegal`);
    t.ok(TRANSITIONS[s].length > 0, `${s} has exits`);
    if (s !== 'disabled') t.ok(isLegalTransition(s, 'disabled'), `${s} -> disabled`);
  }
  t.ok(isLegalTransition('dispensing', 'empty'), 'taken');
  t.notOk(isLegalTransition('empty', 'dispensing'), 'cannot dispense from an empty slot');
  t.notOk(isLegalTransition('loaded', 'dispensing'), 'cannot dispense an unprepared disk');
});

// One database for the whole matrix (each case forces slot 1 into its `from` state).
const shared = kit(t, 1);
for (const from of SLOT_STATES) {
  for (const to of SLOT_STATES) {
    const legal = isLegalTransition(from, to);
    t.test(`${from} -> ${to} is ${legal ? 'legal' : 'illegal'}`, async (t) => {
      const k = shared;
      force(k, from);
      const before = k.slots.get(1);
      const depth = k.outbox.depth();
      if (legal) {
        const res = k.slots.transition({ slot: 1, from, to, reason: 'test', set: argsFor(to) });
        t.equal(res.slot.state, to);
        t.equal(k.slots.get(1).state, to, 'stored');
        t.equal(res.slot.version, before.version + 1, 'version bumped');
        t.equal(k.outbox.depth(), depth + 1, 'one event');
        const ev = k.outbox.peek(1, k.outbox.lastSeq() - 1)[0];
        t.equal(ev?.type, 'SlotStateChanged');
        t.match(ev?.data, { slot: 1, from, to, reason: 'test' });
        t.match(
          (ev?.data as { snapshot?: unknown } | undefined)?.snapshot,
          { slot: 1, state: to, version: res.slot.version },
          'carries the snapshot after the change',
        );
        if (to === 'disabled') t.equal(res.slot.disabledFrom, from, 'remembers where from');
      } else {
        let caught: unknown;
        try {
          k.slots.transition({ slot: 1, from, to, set: argsFor(to) });
        } catch (err) {
          caught = err;
        }
        t.ok(caught instanceof IllegalTransitionError, 'IllegalTransitionError');
        t.match(caught, { code: 'EILLEGALTRANSITION', slot: 1, from, to });
        t.match((caught as Error).message, `${from} -> ${to}`);
        t.same(k.slots.get(1), before, 'state unchanged');
        t.equal(k.outbox.depth(), depth, 'no event');
      }
    });
  }
}

t.test('optimistic check: wrong expected from is refused and writes nothing', async (t) => {
  const k = kit(t, 1);
  t.throws(() => k.slots.transition({ slot: 1, from: 'loaded', to: 'preparing' }), StaleStateError);
  t.equal(k.slots.get(1).state, 'empty');
  t.equal(k.outbox.depth(), 0);
});

t.test('a throw inside the transaction rolls back state and events', async (t) => {
  const k = kit(t, 1);
  force(k, 'ready');
  const before = k.slots.get(1);
  const seqBefore = k.outbox.lastSeq();
  t.throws(
    () =>
      k.slots.transition({
        slot: 1,
        from: 'ready',
        to: 'dispensing',
        events: [{ type: 'FaultRaised', data: { slot: 1, code: 'X', message: 'x' } }],
        also: () => {
          throw new Error('boom');
        },
      }),
    /boom/,
  );
  t.same(k.slots.get(1), before, 'state rolled back');
  t.equal(k.outbox.depth(), 0, 'events rolled back');
  t.equal(k.outbox.lastSeq(), seqBefore, 'seq counter rolled back: no gap');
  const ok = k.slots.transition({ slot: 1, from: 'ready', to: 'dispensing' });
  t.equal(ok.events[0]?.seq, seqBefore + 1, 'next event takes the next seq');
});

t.test('domain events commit with the transition, in order', async (t) => {
  const k = kit(t, 1);
  force(k, 'dispensing');
  const res = k.slots.transition({
    slot: 1,
    from: 'dispensing',
    to: 'empty',
    reason: 'taken',
    events: [
      {
        type: 'DispenseCompleted',
        data: {
          commandId: '6f1c2a3e-1b2c-4d5e-8f90-0a1b2c3d4e5f',
          slot: 1,
          diskId: 'd1',
          outcome: 'taken',
        },
      },
    ],
  });
  t.same(
    res.events.map((e) => e.type),
    ['SlotStateChanged', 'DispenseCompleted'],
  );
  t.equal(res.events[1]!.seq, res.events[0]!.seq + 1);
  t.equal(res.slot.diskId, null, 'empty clears the disk');
  t.equal(res.slot.reservationId, null, 'and the reservation');
});

t.test('arguments must fit the target state', async (t) => {
  const k = kit(t, 1);
  force(k, 'dispensing');
  t.throws(
    () => k.slots.transition({ slot: 1, from: 'dispensing', to: 'fault' }),
    InvalidTransitionArgsError,
  );
  t.equal(k.slots.get(1).state, 'dispensing');
  force(k, 'preparing');
  t.throws(
    () => k.slots.transition({ slot: 1, from: 'preparing', to: 'reserved' }),
    InvalidTransitionArgsError,
    'reserved needs a reservation id',
  );
  t.equal(k.outbox.depth(), 0);
});

t.test('update changes fields without a state change', async (t) => {
  const k = kit(t, 1);
  force(k, 'ready');
  const res = k.slots.update({ slot: 1, expected: 'ready', set: { writeProtect: true } });
  t.equal(res.slot.writeProtect, true);
  t.equal(res.slot.state, 'ready');
  t.throws(
    () => k.slots.update({ slot: 1, expected: 'empty', set: { writeProtect: false } }),
    StaleStateError,
  );
  t.equal(k.slots.get(1).writeProtect, true);
});
