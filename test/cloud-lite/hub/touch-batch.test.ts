// The heartbeats' batched lastSeenAt write (cloud-lite/hub/touch-batch.ts) on a real SQLite
// store whose transactions the test holds back: a heartbeat is answered only after the write
// of its batch committed, a failed write fails every heartbeat of its batch, heartbeats
// arriving during a write go out in the next one, and a Boot recorded while a batch waited is
// not set back by the batch's older time.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { TouchBatch } from '../../../cloud-lite/hub/touch-batch.js';
import { SqliteStore } from '../../../cloud-lite/store/sqlite/sqlite-store.js';
import type { Store } from '../../../cloud-lite/store/types.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'touch-batch-'));
const store = await SqliteStore.open(path.join(dir, 'hub.db'));
t.teardown(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});
const T0 = Date.parse('2026-12-06T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
await store.transaction(async (tx) => {
  for (const id of ['k1', 'k2', 'k3']) await tx.kiosks.insert({ id, name: id, createdAt: at(0) });
});
const seen = async (id: string) => (await store.read((r) => r.kiosks.get(id)))?.lastSeenAt;

/** The store, with each batch's transaction held until the test lets it run (or fail). */
function heldStore() {
  const held: Array<{ go: () => void; fail: (err: Error) => void }> = [];
  let arrived: () => void = () => undefined;
  const wrapped: Pick<Store, 'transaction'> = {
    transaction: (fn, opts) =>
      new Promise<void>((go, fail) => {
        held.push({ go: () => go(), fail });
        arrived();
      }).then(() => (store as Store).transaction(fn, opts)),
  };
  /** Waits until `n` writes were asked for in all. */
  const writes = async (n: number) => {
    while (held.length < n) await new Promise<void>((r) => (arrived = r));
    return held[n - 1]!;
  };
  return { wrapped, writes };
}

/** Whether `p` settled by now (after pending callbacks ran). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

t.test('one write per batch; each heartbeat answered only after it committed', async (t) => {
  const { wrapped, writes } = heldStore();
  const sizes: number[] = [];
  const batch = new TouchBatch({ store: wrapped, windowMs: 1, onWrite: (n) => sizes.push(n) });
  const a = batch.touch('k1', at(1));
  const b = batch.touch('k2', at(1));
  const c = batch.touch('k1', at(2)); // the same kiosk again: its later time
  const first = await writes(1);
  t.notOk(await settled(a), 'not answered while the write is held');
  t.equal(await seen('k1'), null, 'nothing written yet');
  // Arrives while the first write runs: goes out in the next one.
  const d = batch.touch('k3', at(3));
  first.go();
  await Promise.all([a, b, c]);
  t.equal(await seen('k1'), at(2), 'answered after the commit, with the later time');
  t.equal(await seen('k2'), at(1));
  t.notOk(await settled(d), 'the heartbeat that came during the write waits for the next');
  (await writes(2)).go();
  await d;
  t.equal(await seen('k3'), at(3));
  t.same(sizes, [2, 1], 'two writes: k1 and k2 together, then k3');
});

t.test("a failed write fails every heartbeat of its batch, not the next batch's", async (t) => {
  const { wrapped, writes } = heldStore();
  const batch = new TouchBatch({ store: wrapped, windowMs: 1 });
  const a = batch.touch('k1', at(10));
  const b = batch.touch('k2', at(10));
  (await writes(1)).fail(new Error('connection lost'));
  await t.rejects(a, /connection lost/, 'the first heartbeat gets the error');
  await t.rejects(b, /connection lost/, 'so does the second');
  t.equal(await seen('k2'), at(1), 'nothing of the failed batch written');
  const c = batch.touch('k2', at(11));
  (await writes(2)).go();
  await c;
  t.equal(await seen('k2'), at(11), 'the next batch is written');
});

t.test('a Boot committed while a batch waited is not set back by it', async (t) => {
  const { wrapped, writes } = heldStore();
  const batch = new TouchBatch({ store: wrapped, windowMs: 1 });
  const a = batch.touch('k3', at(20)); // the heartbeat, gathered first
  const held = await writes(1);
  await store.transaction((tx) =>
    tx.kiosks.recordBoot('k3', {
      at: at(21),
      softwareVersion: '1',
      imageVersion: null,
      slotCount: 4,
      bootReason: 'PowerOn',
    }),
  );
  held.go();
  await a;
  t.equal(await seen('k3'), at(21), "the Boot's later time stays");
});

t.test('flush() writes what is gathered at once and waits for it (hub stop)', async (t) => {
  const batch = new TouchBatch({ store, windowMs: 60_000 });
  const a = batch.touch('k1', at(30));
  await batch.flush();
  t.ok(await settled(a), 'answered');
  t.equal(await seen('k1'), at(30));
});
