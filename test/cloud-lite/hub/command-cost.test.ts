// What a command round trip costs the SQLite store, counted at better-sqlite3's Statement (every
// statement of every repository, BEGIN and COMMIT included), not timed: the dispatcher records a
// command for a connected kiosk, sends it on a channel that answers Accepted at once, and a
// caller waits for it. One round trip is two commits (recorded as sent; answered); the waiter's
// read runs without a transaction of its own; the answer is one guarded UPDATE (no read of the
// state first). Commands recorded in one turn of the event loop share one COMMIT, and so do
// the answers of one turn, each in a callback of its own (before, each answer committed alone).
// On PostgreSQL (counted at the store: round trips and commits) the answers of one turn are
// one UPDATE (AnswerBatch: before, one statement and one commit each).
// The dispatcher's time stamps are made without Date.prototype.toISOString (common/iso-time.ts).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import t from 'tap';
import { CommandDispatcher } from '../../../cloud-lite/hub/command-dispatcher.js';
import type { CommandChannel } from '../../../cloud-lite/hub/types.js';
import { PostgresStore } from '../../../cloud-lite/store/postgres/postgres-store.js';
import { SqliteStore } from '../../../cloud-lite/store/sqlite/sqlite-store.js';
import { kioskFeatures } from '../../../protocol/index.js';
import { pgServer } from '../../helpers/postgres.js';

const pgs = await pgServer(t);

// Every run of a prepared statement, by its SQL, whichever repository prepared it.
const runs = new Map<string, number>();
{
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<
    'run' | 'get' | 'all' | 'iterate',
    (this: { source: string }, ...args: unknown[]) => unknown
  >;
  for (const m of ['run', 'get', 'all', 'iterate'] as const) {
    const orig = proto[m]!;
    proto[m] = function (this: { source: string }, ...args: unknown[]) {
      runs.set(this.source, (runs.get(this.source) ?? 0) + 1);
      return orig.apply(this, args);
    };
  }
  probe.close();
}
const counted = () => {
  let statements = 0;
  for (const n of runs.values()) statements += n;
  return {
    statements,
    begins: runs.get('BEGIN IMMEDIATE') ?? 0,
    commits: runs.get('COMMIT') ?? 0,
    savepoints: runs.get('SAVEPOINT tx') ?? 0,
  };
};
const since = (before: ReturnType<typeof counted>) => {
  const now = counted();
  return {
    statements: now.statements - before.statements,
    begins: now.begins - before.begins,
    commits: now.commits - before.commits,
    savepoints: now.savepoints - before.savepoints,
  };
};

t.test('command round trips on SQLite: statements and commits counted', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'command-cost-'));
  const store = SqliteStore.open(path.join(dir, 'hub.db'));
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const kiosks = ['k1', 'k2', 'k3', 'k4'];
  await store.transaction(async (tx) => {
    for (const id of kiosks) {
      await tx.kiosks.insert({ id, name: id, createdAt: new Date().toISOString() });
      await tx.kiosks.recordBoot(id, {
        at: new Date().toISOString(),
        softwareVersion: 'test',
        imageVersion: null,
        slotCount: 4,
        bootReason: 'PowerOn',
      });
    }
  });
  const sentTo: string[] = [];
  const channel = (kioskId: string): CommandChannel => ({
    kioskId,
    ready: true,
    open: true,
    inFlight: new Set(),
    features: kioskFeatures(undefined),
    // Each answer in a callback of its own, as each kiosk's answer comes in a socket read.
    call: (action) => {
      sentTo.push(`${kioskId} ${action}`);
      return new Promise((resolve) => setImmediate(() => resolve({ status: 'Accepted' })));
    },
  });
  const channels = new Map(kiosks.map((id) => [id, channel(id)]));
  const dispatcher = new CommandDispatcher({
    store,
    logger: pino({ level: 'silent' }),
    signingKey: generateKeyPairSync('ed25519').privateKey,
    channelFor: (id) => channels.get(id),
    callTimeoutMs: 5000,
    // Never started: no expiry sweep runs statements of its own during the count.
    sweepIntervalMs: 60_000,
  });
  const deadline = () => new Date(Date.now() + 60_000);
  const roundTrip = async (kioskId: string) => {
    const c = await dispatcher.sendCommand(kioskId, 'EnableSlot', { slot: 1 }, deadline());
    return dispatcher.waitFor(c.id, { timeoutMs: 5000 });
  };
  const warm = await roundTrip('k1');
  t.equal(warm.state, 'completed', 'warm-up round trip completes');
  // Time-ordered ids (UUID version 7 of createdAt): each INSERT lands on the last page of the
  // primary key index, not on a random one (a random id dirtied one more page per command, each
  // written to the WAL at the commit).
  t.match(warm.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/, 'command ids are UUIDs version 7');
  t.equal(
    Number.parseInt(warm.id.slice(0, 8) + warm.id.slice(9, 13), 16),
    Date.parse(warm.createdAt),
    "a command id begins with its createdAt's milliseconds",
  );

  // Date.prototype.toISOString (~0.7 µs each; the dispatcher's stamps use isoTime) counted too.
  const toIso = Date.prototype.toISOString;
  let isoCalls = 0;
  Date.prototype.toISOString = function (this: Date) {
    isoCalls++;
    return toIso.call(this);
  };
  t.teardown(() => {
    Date.prototype.toISOString = toIso;
  });
  const before = counted();
  for (let i = 0; i < 10; i++) {
    const done = await roundTrip('k1');
    t.equal(done.state, 'completed');
  }
  const one = since(before);
  Date.prototype.toISOString = toIso;
  t.equal(isoCalls, 0, 'no Date.prototype.toISOString per round trip (isoTime stamps them)');
  t.equal(one.commits, 20, 'two commits per round trip (recorded as sent; answered)');
  t.equal(one.begins, 20, 'a BEGIN only for the commits');
  // BEGIN, INSERT (checking the kiosk's row as the warm-up read it), COMMIT; BEGIN, UPDATE,
  // COMMIT. The waiter reads nothing: the dispatcher knows the state of a command it just
  // recorded.
  t.equal(one.statements, 60, 'six statements per round trip');

  // 20 commands recorded in one turn of the event loop: one commit records them all.
  sentTo.length = 0;
  const burst = counted();
  const recorded = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      dispatcher.sendCommand(kiosks[i % kiosks.length]!, 'EnableSlot', { slot: 2 }, deadline()),
    ),
  );
  const recording = since(burst);
  t.equal(recording.commits, 1, '20 commands recorded in one turn: one COMMIT');
  // Each recording stands alone (isolation autocommit): no SAVEPOINT and RELEASE around it.
  t.equal(recording.savepoints, 0, 'no savepoint for a command recorded in a group');
  t.equal(
    recording.statements,
    25,
    'BEGIN, 20 INSERTs (k2-k4 read first: their first commands here), COMMIT',
  );
  const settled = await Promise.all(recorded.map((c) => dispatcher.waitFor(c.id)));
  t.same(
    settled.map((c) => c.state),
    Array(20).fill('completed'),
    'every command of the burst completed',
  );
  t.equal(sentTo.length, 20, 'each sent once');
  const burstCost = since(burst);
  t.equal(burstCost.commits, 2, '20 answers come in one turn of the event loop: one COMMIT');
  t.equal(burstCost.savepoints, 0, 'no savepoint for an answer recorded in a group');
  const rows = await store.read((r) => r.commands.countByState());
  t.same(rows, { completed: 31 }, 'every command is stored completed');

  // A command this process recorded (its state known without a read) whose kiosk never
  // answers: waitFor's timeout still fires.
  channels.set('k2', { ...channel('k2'), call: () => new Promise(() => undefined) });
  const silent = await dispatcher.sendCommand('k2', 'EnableSlot', { slot: 3 }, deadline());
  await t.rejects(
    dispatcher.waitFor(silent.id, { timeoutMs: 100 }),
    { name: 'TimeoutError' },
    'waitFor gives up after its timeout on a command recorded here',
  );
});

t.test('command answers on PostgreSQL: those of one turn in one statement', async (t) => {
  if (!pgs) return;
  // One pooled connection: every statement counted is the test's (and its session is set up
  // by the first recording, not during the count).
  const store = await PostgresStore.open(await pgs.createDatabase(), { poolSize: 1 });
  t.teardown(() => store.close());
  await store.transaction(async (tx) => {
    await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: new Date().toISOString() });
    await tx.kiosks.recordBoot('k1', {
      at: new Date().toISOString(),
      softwareVersion: 'test',
      imageVersion: null,
      slotCount: 4,
      bootReason: 'PowerOn',
    });
  });
  // The kiosk's answers held until the test lets them all come at once.
  const held: Array<() => void> = [];
  const dispatcher = new CommandDispatcher({
    store,
    logger: pino({ level: 'silent' }),
    signingKey: generateKeyPairSync('ed25519').privateKey,
    channelFor: (kioskId) => ({
      kioskId,
      ready: true,
      open: true,
      inFlight: new Set(),
      features: kioskFeatures(undefined),
      call: () => new Promise((resolve) => held.push(() => resolve({ status: 'Accepted' }))),
    }),
    callTimeoutMs: 30_000,
    sweepIntervalMs: 60_000,
  });
  const deadline = new Date(Date.now() + 60_000);
  const recorded = await Promise.all(
    Array.from({ length: 20 }, () =>
      dispatcher.sendCommand('k1', 'EnableSlot', { slot: 1 }, deadline),
    ),
  );
  for (let i = 0; held.length < 20 && i < 1000; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(held.length, 20, 'every command sent');
  const before = store.commitStats();
  for (const answer of held) answer();
  const settled = await Promise.all(recorded.map((c) => dispatcher.waitFor(c.id)));
  t.same(
    settled.map((c) => c.state),
    Array(20).fill('completed'),
    'every command completed',
  );
  const after = store.commitStats();
  t.equal(after.roundTrips - before.roundTrips, 1, '20 answers in one turn: one statement');
  t.equal(after.commits - before.commits, 1, 'and one commit');
  t.same(await store.read((r) => r.commands.countByState()), { completed: 20 });
});
