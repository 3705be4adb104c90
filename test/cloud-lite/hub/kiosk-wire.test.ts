// The kiosk wire rules an independent kiosk client probed, each over a real WebSocket
// against a real hub (closing sessions of a replaced secret: ../enrol-auth.test.ts).
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { RpcError, type SlotSnapshot } from '../../../protocol/index.js';
import { startTestHub, waitUntil } from '../fixtures/test-hub.js';

/** The rejection of `p` as an RpcError (fails the test if `p` resolves). */
async function refusal(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof RpcError) return err;
    throw err;
  }
  throw new Error('expected a CALLERROR, got a CALLRESULT');
}

const ready = (slot: number, diskId: string): SlotSnapshot => ({
  slot,
  state: 'ready',
  diskId,
  capacityBytes: 64e9,
  contentId: 'films',
  contentVersion: '1',
  writeProtect: true,
  version: 1,
});

t.test('an Inventory that breaks the slot rules is refused and stores nothing', async (t) => {
  const hub = await startTestHub(t);
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k1'));
  await kiosk.boot({ slotCount: 3 });
  await kiosk.inventory([ready(1, 'd1'), ready(2, 'd2'), ready(3, 'd3')]);
  const view = async () =>
    (await hub.api('GET', '/api/operator/kiosks/k1')).body.kiosk.slots.map(
      (s: { slot: number; diskId?: string }) => [s.slot, s.diskId],
    );
  const before = await view();
  t.same(before, [
    [1, 'd1'],
    [2, 'd2'],
    [3, 'd3'],
  ]);

  const cases: Array<[string, SlotSnapshot[], string, RegExp]> = [
    ['duplicate slot', [ready(1, 'd1'), ready(1, 'd9')], 'duplicate-slot', /slot 1 twice/],
    [
      'slot above the Boot slot count',
      [ready(1, 'd1'), ready(4, 'd4')],
      'slot-out-of-range',
      /slot 4 but Boot reported 3 slots/,
    ],
    [
      'one disk in two slots',
      [ready(1, 'd1'), ready(2, 'd1')],
      'duplicate-disk',
      /disk d1 in slots 1 and 2/,
    ],
    ['an empty slot list', [], 'no-slots', /no slots/],
  ];
  for (const [name, slots, problem, description] of cases) {
    const err = await refusal(kiosk.inventory(slots));
    t.equal(err.code, 'ECALLERROR', `${name}: answered with a CALLERROR`);
    t.equal(err.errorCode, 'PropertyConstraintViolation', `${name}: code`);
    t.equal(err.details.problem, problem, `${name}: details name the problem`);
    t.match(err.message, description, `${name}: the description says what is wrong`);
    t.same(await view(), before, `${name}: the slot view is unchanged`);
  }
  t.ok(await kiosk.heartbeat(), 'the connection stays usable');
});

t.test('a CALL whose message id can be read is always answered', async (t) => {
  const hub = await startTestHub(t);
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k1'));
  await kiosk.boot();

  const long = 'x'.repeat(65);
  kiosk.sendRaw(JSON.stringify([2, long, 'Heartbeat', {}]));
  const a = await kiosk.waitForAnswer(long);
  t.equal(a[0], 4, 'a CALLERROR');
  t.equal(a[1], long, 'echoing the id exactly as sent');
  t.equal(a[2], 'RpcFrameworkError');
  t.match(a[3], /message id must be a string of 1\.\.64 chars \(got 65 chars\)/);

  const longer = 'y'.repeat(1000);
  kiosk.sendRaw(JSON.stringify([2, longer, 'Heartbeat', {}]));
  t.equal((await kiosk.waitForAnswer(longer))[2], 'RpcFrameworkError', 'a 1000-char id too');

  kiosk.sendRaw('[2,"broken-1","Heartbeat",{');
  const b = await kiosk.waitForAnswer('broken-1');
  t.same(b.slice(0, 3), [4, 'broken-1', 'FormatViolation'], 'bad JSON with a readable id');

  kiosk.sendRaw('[2,"","Heartbeat",{}]');
  t.equal((await kiosk.waitForAnswer(''))[2], 'RpcFrameworkError', 'an empty id is echoed');

  t.ok(await kiosk.heartbeat(), 'the connection stays usable');
  t.ok(hub.server.hub.isConnected('k1'));
  t.equal(hub.server.metrics.errorCount('protocol'), 4, 'each refused frame counted');
});

t.test('Heartbeat, Event and Inventory before an accepted Boot are refused', async (t) => {
  const hub = await startTestHub(t);
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k1'));
  const seen: number[] = [];
  hub.server.hub.onEvent('*', async (ev) => {
    seen.push(ev.seq);
  });
  const expectBootFirst = async (what: string) => {
    for (const [name, call] of [
      ['Heartbeat', () => kiosk.heartbeat()],
      ['Inventory', () => kiosk.inventory([ready(1, 'd1')])],
      ['Event', () => kiosk.sendEvent('DoorChanged', { open: true }, { seq: 1 })],
    ] as const) {
      const err = await refusal(call());
      t.equal(err.errorCode, 'SecurityError', `${what}: ${name} refused with SecurityError`);
      t.match(err.message, /send Boot first/, `${what}: ${name} says why`);
      t.equal(err.details.problem, 'boot-required');
    }
    t.same(seen, [], `${what}: no event recorded`);
    const k = (await hub.api('GET', '/api/operator/kiosks/k1')).body.kiosk;
    t.same(k.slots, [], `${what}: no slot stored`);
  };
  await expectBootFirst('before any Boot');

  const rejected = await kiosk.boot({ kioskId: 'someone-else' });
  t.equal(rejected.status, 'Rejected');
  t.match(rejected.reason, /another kiosk id/);
  await expectBootFirst('after a Rejected Boot');

  // No command reaches a kiosk whose Boot was rejected.
  const cmd = await hub.server.hub.sendCommand(
    'k1',
    'EnableSlot',
    { slot: 1 },
    new Date(Date.now() + 60_000),
  );
  t.equal((await hub.server.hub.commands.get(cmd.id))?.state, 'pending', 'command waits');

  t.equal((await kiosk.boot()).status, 'Accepted', 'Boot is still allowed');
  t.ok(await kiosk.heartbeat(), 'after an accepted Boot, Heartbeat works');
  await kiosk.sendEvent('DoorChanged', { open: true }, { seq: 1 });
  t.same(seen, [1], 'and events are recorded');
  t.equal((await hub.server.hub.waitFor(cmd.id, { timeoutMs: 5000 })).state, 'completed');

  // An accepted connection that sends a rejected Boot loses it again.
  await kiosk.boot({ kioskId: 'someone-else' });
  t.equal((await refusal(kiosk.heartbeat())).errorCode, 'SecurityError', 'rejected again');
});

t.test('a late answer or outcome never revives an expired command', async (t) => {
  const hub = await startTestHub(t);
  const h = hub.server.hub;
  const answers: Array<(v: unknown) => void> = [];
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k1'), {
    onCommand: () => new Promise((resolve) => answers.push(resolve)),
  });
  await kiosk.boot();
  // The hub settles a WipeDisk by its WipeCompleted event itself.
  const states: string[] = [];
  h.on('commandState', (c) => states.push(c.state));
  const lateAnswers = () => hub.server.metrics.errorCount('late_answer');

  const cmd = await h.sendCommand(
    'k1',
    'WipeDisk',
    { slot: 1, mode: 'quick' },
    new Date(Date.now() + 300),
  );
  await kiosk.waitForCommand((c) => c.payload.commandId === cmd.id);
  t.equal((await h.waitFor(cmd.id, { timeoutMs: 5000 })).state, 'expired');

  answers[0]!({ status: 'Accepted' }); // the kiosk's answer, after the deadline
  const state = async () => (await h.commands.get(cmd.id))?.state;
  await waitUntil(
    'the late answer handled',
    async () => lateAnswers() === 1 || (await state()) !== 'expired',
  );
  t.equal(await state(), 'expired', 'a late CALLRESULT leaves it expired');
  t.equal(lateAnswers(), 1, 'and is counted as a late answer');

  await kiosk.sendEvent('WipeCompleted', {
    commandId: cmd.id,
    slot: 1,
    diskId: 'd1',
    mode: 'quick',
  });
  t.equal(lateAnswers(), 2, 'the late outcome event is counted too');
  t.equal(await state(), 'expired', 'a late outcome leaves it expired');
  t.same(states, ['pending', 'sent', 'expired'], 'no state after expired was ever emitted');
});

t.test('an event seq reused with another eventId is refused, flagged, not stored', async (t) => {
  const hub = await startTestHub(t);
  const kiosk = await hub.connectKiosk(await hub.enrolKiosk('k1'));
  await kiosk.boot();
  const seen: string[] = [];
  hub.server.hub.onEvent('*', async (ev) => {
    seen.push(ev.eventId);
  });
  const first = await kiosk.sendEvent('DoorChanged', { open: true });
  await kiosk.sendEvent('DoorChanged', { open: false });

  const forged = randomUUID();
  for (let i = 0; i < 2; i++) {
    const err = await refusal(
      kiosk.sendEvent('DoorChanged', { open: false }, { seq: 1, eventId: forged }),
    );
    t.equal(err.errorCode, 'PropertyConstraintViolation', 'refused');
    t.equal(err.details.problem, 'event-seq-reused');
    t.match(err.message, `event seq 1 is already recorded with eventId ${first.eventId}`);
  }
  // The same eventId again with its own seq is a repeat, acknowledged as before.
  await kiosk.sendEvent('DoorChanged', { open: true }, { seq: 1, eventId: first.eventId });
  // An eventId already recorded with another seq is refused too.
  const moved = await refusal(
    kiosk.sendEvent('DoorChanged', { open: true }, { seq: 7, eventId: first.eventId }),
  );
  t.equal(moved.details.problem, 'event-id-reused');

  t.equal(seen.length, 2, 'the domain saw only the two real events');
  t.notOk(seen.includes(forged));
  const log = await hub.api('GET', '/api/operator/kiosks/k1/events');
  t.same(
    log.body.events.map((e: { seq: number; eventId: string }) => [e.seq, e.eventId]),
    [
      [1, first.eventId],
      [2, seen[1]],
    ],
    'nothing stored for the refused events',
  );
  const flags = (await hub.api('GET', '/api/operator/reconciliation')).body.flags;
  t.same(
    flags.map((f: { kind: string; subject: string }) => [f.kind, f.subject]),
    [
      ['EVENT_SEQ_REUSED', 'k1 seq 1'],
      ['EVENT_SEQ_REUSED', 'k1 seq 7'],
    ],
    'one open flag per reused seq, however often the kiosk re-sends',
  );
  t.match(flags[0].message, forged);
  const audit = (await hub.api('GET', '/api/operator/audit')).body.audit.filter(
    (a: { action: string }) => a.action === 'event.seq_reused',
  );
  t.equal(audit.length, 2, 'audited once per flag');
  t.equal(audit.at(-1).subject, forged);
  t.equal(audit.at(-1).kioskId, 'k1');
  t.equal(hub.server.metrics.errorCount('event_conflict'), 3);
});

t.test('a kiosk that boots with a new database numbers its events from 1 again', async (t) => {
  const hub = await startTestHub(t);
  const creds = await hub.enrolKiosk('k1');
  const oldDb = randomUUID();
  const before = await hub.connectKiosk(creds);
  await before.boot({ databaseId: oldDb });
  const first = await before.sendEvent('DoorChanged', { open: true });
  await before.sendEvent('DoorChanged', { open: false });
  await before.close();

  // The same database after a restart: its seqs still count (a reuse is refused).
  const again = await hub.connectKiosk(creds);
  await again.boot({ databaseId: oldDb });
  const reused = await refusal(
    again.sendEvent('DoorChanged', { open: true }, { seq: 1, eventId: randomUUID() }),
  );
  t.equal(reused.details.problem, 'event-seq-reused', 'same database: seq 1 is taken');
  await again.close();

  // The SD card re-flashed: a new database, whose events start again at seq 1.
  const reflashed = await hub.connectKiosk(creds);
  await reflashed.boot({ databaseId: randomUUID() });
  const fresh = await reflashed.sendEvent('DoorChanged', { open: true }, { seq: 1 });
  const next = await reflashed.sendEvent('DoorChanged', { open: false }, { seq: 2 });
  const log = await hub.api('GET', '/api/operator/kiosks/k1/events');
  const seqOf = (id: string) =>
    log.body.events.find((e: { eventId: string }) => e.eventId === id)?.seq;
  t.same(
    [seqOf(first.eventId), seqOf(fresh.eventId), seqOf(next.eventId)],
    [1, 1, 2],
    'the new database’s events are recorded; the old database’s stay in the log',
  );
  // Its own seqs are guarded again: seq 1 of the new database cannot be reused.
  const reusedNew = await refusal(
    reflashed.sendEvent('DoorChanged', { open: true }, { seq: 1, eventId: randomUUID() }),
  );
  t.equal(reusedNew.details.problem, 'event-seq-reused');

  const flags = (await hub.api('GET', '/api/operator/reconciliation')).body.flags;
  t.match(
    flags.find((f: { kind: string }) => f.kind === 'KIOSK_DATABASE_REPLACED'),
    { subject: 'k1', message: /booted with a new database .*last event seq 2/ },
    'the operator is told',
  );
  const audit = (await hub.api('GET', '/api/operator/audit')).body.audit.filter(
    (a: { action: string }) => a.action === 'kiosk.database_replaced',
  );
  t.equal(audit.length, 1);
});
