import t from 'tap';
import { inventorySnapshot } from '../../../kiosk/slots/inventory.js';
import { Inbox } from '../../../kiosk/state/inbox.js';
import { NonceStore } from '../../../kiosk/state/nonces.js';
import { InvalidEventError } from '../../../kiosk/state/outbox.js';
import { kit, openKit, tempDir } from '../fixtures/kit.js';

const fault = (n: number) => ({ slot: 1, code: `E${n}`, message: `fault ${n}` });

t.test(
  'outbox: gap-free seq, peek in order, out-of-order acks delete only that event',
  async (t) => {
    const k = kit(t);
    const evs = [1, 2, 3, 4, 5].map((n) => k.outbox.append('FaultRaised', fault(n)));
    t.same(
      evs.map((e) => e.seq),
      [1, 2, 3, 4, 5],
    );
    t.equal(new Set(evs.map((e) => e.eventId)).size, 5, 'unique event ids');
    t.ok(k.outbox.ack(4), 'ack 4 first');
    t.ok(k.outbox.ack(2));
    t.notOk(k.outbox.ack(4), 'a repeated ack is a no-op');
    t.same(
      k.outbox.peek(10).map((e) => e.seq),
      [1, 3, 5],
      'lower unacked events stay, in seq order',
    );
    t.same(k.outbox.peek(10)[0], evs[0], 'stored exactly as appended');
    for (const s of [1, 3, 5]) k.outbox.ack(s);
    t.equal(k.outbox.depth(), 0);
    t.equal(k.outbox.append('FaultRaised', fault(6)).seq, 6, 'seq never reused after deletes');
  },
);

t.test('outbox: events survive a restart, seq continues', async (t) => {
  const dir = tempDir(t);
  const a = openKit(dir);
  a.outbox.append('FaultRaised', fault(1));
  a.outbox.append('FaultRaised', fault(2));
  a.outbox.ack(2);
  a.db.close();
  const b = openKit(dir);
  t.teardown(() => b.db.close());
  t.same(
    b.outbox.peek(10).map((e) => e.seq),
    [1],
  );
  t.equal(b.outbox.append('FaultRaised', fault(3)).seq, 3);
});

t.test('outbox: malformed events are refused at append, nothing stored', async (t) => {
  const k = kit(t);
  t.throws(() => k.outbox.append('FaultRaised', { slot: 0 } as never), InvalidEventError);
  t.throws(() => k.outbox.append('NoSuchEvent' as never, {} as never), InvalidEventError);
  t.equal(k.outbox.depth(), 0);
  t.equal(k.outbox.lastSeq(), 0);
});

t.test('inbox: a repeated command id gets the stored answer, never runs twice', async (t) => {
  const k = kit(t);
  const inbox = new Inbox({ db: k.db, clock: k.clock });
  const id = '0b7f8c1e-2a3b-4c5d-9e0f-112233445566';
  t.same(inbox.record(id, 'SetWriteProtect', { commandId: id, slot: 1, on: true }), {
    fresh: true,
  });
  t.match(inbox.record(id, 'SetWriteProtect', {}), {
    fresh: false,
    state: 'received',
    storedResponse: null,
  });
  inbox.answer(id, { kind: 'result', payload: { status: 'Accepted' } });
  t.same(inbox.record(id, 'SetWriteProtect', {}), {
    fresh: false,
    state: 'done',
    storedResponse: { kind: 'result', payload: { status: 'Accepted' } },
  });
  inbox.answer(id, { kind: 'result', payload: { status: 'Rejected' } });
  t.same(
    inbox.get(id)?.answer,
    { kind: 'result', payload: { status: 'Accepted' } },
    'first answer kept',
  );
  t.same(inbox.get(id)?.payload, { commandId: id, slot: 1, on: true }, 'first payload kept');
});

t.test('inbox: long work stays unfinished until complete; steps are recorded', async (t) => {
  const dir = tempDir(t);
  const k = openKit(dir);
  const inbox = new Inbox({ db: k.db, clock: k.clock });
  const a = '1b7f8c1e-2a3b-4c5d-9e0f-112233445566';
  const b = '2b7f8c1e-2a3b-4c5d-9e0f-112233445566';
  inbox.record(a, 'PrepareDisk', { commandId: a });
  inbox.begin(a);
  inbox.answer(a, { kind: 'result', payload: { status: 'Accepted' } });
  inbox.setStep(a, 'copying');
  inbox.record(b, 'Dispense', { commandId: b });
  inbox.setStep(b, 'motor-started');
  k.db.close();
  const k2 = openKit(dir);
  t.teardown(() => k2.db.close());
  const inbox2 = new Inbox({ db: k2.db, clock: k2.clock });
  t.match(
    inbox2.unfinished(),
    [
      { commandId: a, state: 'executing', step: 'copying', answer: { kind: 'result' } },
      { commandId: b, state: 'executing', step: 'motor-started', answer: null },
    ],
    'after a restart, reconciliation sees both',
  );
  inbox2.complete(a);
  inbox2.complete(b, { status: 'Rejected', reason: 'power lost' }, { failed: true });
  t.same(inbox2.unfinished(), []);
  t.match(inbox2.get(b), { state: 'failed', answer: { payload: { status: 'Rejected' } } });
});

t.test('nonces: a replay is refused until the nonce expires', async (t) => {
  const k = kit(t);
  const nonces = new NonceStore({ db: k.db, clock: k.clock });
  const later = new Date(Date.now() + 60_000).toISOString();
  t.ok(nonces.remember('n1', later));
  t.notOk(nonces.remember('n1', later), 'replay');
  t.ok(nonces.remember('n2', new Date(Date.now() - 1000).toISOString()));
  t.equal(nonces.purge(), 1, 'expired one purged');
});

t.test('inventory snapshot joins disks and reservations', async (t) => {
  const k = kit(t, 2);
  k.db
    .prepare(
      `INSERT INTO disks (disk_id, usb_serial, capacity_bytes, content_id, content_version, updated_at)
       VALUES ('d1', 'SER1', 1000, 'movies', '3', 'x')`,
    )
    .run();
  k.slots.transition({ slot: 1, from: 'empty', to: 'loaded', set: { diskId: 'd1' } });
  const inv = inventorySnapshot(k.db, k.clock);
  t.same(inv.slots, [
    {
      slot: 1,
      state: 'loaded',
      writeProtect: false,
      diskId: 'd1',
      diskSerial: 'SER1',
      capacityBytes: 1000,
      contentId: 'movies',
      contentVersion: '3',
      version: 1,
    },
    { slot: 2, state: 'empty', writeProtect: false, version: 0 },
  ]);
});

t.test(
  'inbox: finished commands are pruned after keepFinishedMs, unfinished ones never',
  async (t) => {
    const k = kit(t);
    let now = new Date('2026-01-01T00:00:00Z');
    const clock = { now: () => now };
    const inbox = new Inbox({ db: k.db, clock, keepFinishedMs: 24 * 3600 * 1000, keepNewest: 0 });
    const done = '3b7f8c1e-2a3b-4c5d-9e0f-112233445566';
    const open = '4b7f8c1e-2a3b-4c5d-9e0f-112233445566';
    inbox.record(done, 'SetWriteProtect', { commandId: done });
    inbox.answer(done, { kind: 'result', payload: { status: 'Accepted' } });
    inbox.record(open, 'PrepareDisk', { commandId: open });
    inbox.begin(open);

    now = new Date('2026-01-01T12:00:00Z'); // younger than a day: kept
    inbox.record('5b7f8c1e-2a3b-4c5d-9e0f-112233445566', 'Reset', {});
    t.ok(inbox.get(done), 'a command finished 12 h ago is kept for replays');

    now = new Date('2026-01-03T00:00:00Z');
    inbox.record('6b7f8c1e-2a3b-4c5d-9e0f-112233445566', 'Reset', {});
    t.notOk(inbox.get(done), 'a command finished two days ago is pruned');
    t.equal(inbox.get(open)?.state, 'executing', 'an unfinished command stays whatever its age');
  },
);

t.test(
  'inbox: a command finished while the clock was wrong is not pruned once it is right',
  async (t) => {
    const k = kit(t);
    // A Pi without a real-time clock, restarted: its clock is years behind until the hub sets it.
    let now = new Date('2023-12-07T11:09:46Z');
    const clock = { now: () => now };
    const inbox = new Inbox({ db: k.db, clock, keepFinishedMs: 24 * 3600 * 1000, keepNewest: 2 });
    const settled = '7b7f8c1e-2a3b-4c5d-9e0f-112233445566';
    inbox.record(settled, 'Dispense', { commandId: settled });
    inbox.complete(settled, { status: 'Accepted' });

    now = new Date('2026-12-06T11:10:00Z'); // Boot set the clock; a minute later a command comes
    inbox.record('8b7f8c1e-2a3b-4c5d-9e0f-112233445566', 'Reset', {});
    t.ok(inbox.get(settled), 'still there: among the newest finished commands');
    t.same(inbox.record(settled, 'Dispense', {}).fresh, false, 'a re-sent command gets its answer');

    // Older than a day AND beyond the newest two finished: pruned.
    for (const id of [
      '9b7f8c1e-2a3b-4c5d-9e0f-112233445566',
      'ab7f8c1e-2a3b-4c5d-9e0f-112233445566',
    ]) {
      inbox.record(id, 'Reset', {});
      inbox.complete(id, { status: 'Accepted' });
    }
    now = new Date('2026-12-06T12:20:00Z');
    inbox.record('bb7f8c1e-2a3b-4c5d-9e0f-112233445566', 'Reset', {});
    t.notOk(inbox.get(settled), 'pruned once two newer commands finished');
  },
);
