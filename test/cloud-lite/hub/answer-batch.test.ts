// Kiosks' answers recorded together (cloud-lite/hub/answer-batch.ts) on a real SQLite store:
// the answers of one turn of the event loop go out as one recordAnswers, those arriving while a
// write is on its way go out in the next one, a repeated id waits for the next write, and a
// write that fails is tried again answer by answer, so only the answer the store refuses fails,
// and an answer the failed write had kept still counts as changed.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { AnswerBatch } from '../../../cloud-lite/hub/answer-batch.js';
import { SqliteStore } from '../../../cloud-lite/store/sqlite/sqlite-store.js';
import type { CommandAnswer, Store } from '../../../cloud-lite/store/types.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'answer-batch-'));
const store = await SqliteStore.open(path.join(dir, 'hub.db'));
t.teardown(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});
const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const ids = Array.from({ length: 8 }, (_, i) => `c${i}`);
await store.transaction(async (tx) => {
  await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: at(0) });
  for (const id of ids)
    await tx.commands.insert({
      id,
      kioskId: 'k1',
      action: 'EnableSlot',
      payload: { slot: 1 },
      state: 'pending',
      createdAt: at(0),
      updatedAt: at(0),
      deadline: at(600),
      attempts: 0,
      lastSentAt: null,
      result: null,
    });
});
const answer = (id: string, result: Record<string, unknown> = { status: 'Accepted' }) =>
  ({ id, state: 'completed', at: at(2), result, sentAt: at(1) }) satisfies CommandAnswer;

/**
 * The store, each write's answers noted, and a write that fails while `refuse` matches one;
 * `keepBefore`: having written the answers before the refused one (as SQLite's autocommit item
 * keeps the statements before a failing one).
 */
function watched(refuse?: (a: CommandAnswer) => boolean, keepBefore = false) {
  const writes: string[][] = [];
  const wrapped: Pick<Store, 'transaction'> = {
    transaction: (fn, opts) =>
      (store as Store).transaction(
        (tx, ctx) =>
          fn(
            Object.assign(Object.create(tx), {
              commands: Object.assign(Object.create(tx.commands), {
                recordAnswers(answers: CommandAnswer[]) {
                  writes.push(answers.map((a) => a.id));
                  const refused = refuse ? answers.findIndex(refuse) : -1;
                  if (refused >= 0 && keepBefore && refused > 0)
                    return tx.commands.recordAnswers(answers.slice(0, refused)).then(() => {
                      throw new Error('refused by the store, the answers before it kept');
                    });
                  if (refused >= 0) return Promise.reject(new Error('refused by the store'));
                  return tx.commands.recordAnswers(answers);
                },
              }),
            }),
            ctx,
          ),
        opts,
      ),
  };
  return { writes, batch: new AnswerBatch({ store: wrapped }) };
}

t.test('the answers of one turn: one write; later ones: the next', async (t) => {
  const { writes, batch } = watched();
  const first = ids.slice(0, 3).map((id) => batch.record(answer(id)));
  // A repeat of c0 in the same turn waits for the next write: it finds c0 answered already.
  const repeat = batch.record(answer('c0'));
  t.same(await Promise.all(first), [true, true, true], 'each changed its command');
  const later = batch.record(answer('c3'));
  t.equal(await repeat, false, 'the repeat changed nothing');
  t.equal(await later, true);
  t.same(writes[0], ['c0', 'c1', 'c2'], 'one write for the turn');
  t.same(writes.flat().sort(), ['c0', 'c0', 'c1', 'c2', 'c3'], 'the repeat and c3 in later writes');
  t.match(await store.read((r) => r.commands.get('c1')), {
    state: 'completed',
    attempts: 1,
    lastSentAt: at(1),
  });
});

t.test('a write that fails: tried again answer by answer', async (t) => {
  const { writes, batch } = watched((a) => a.id === 'c5');
  const results = await Promise.allSettled(
    ['c4', 'c5', 'c6'].map((id) => batch.record(answer(id))),
  );
  t.same(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
    'only the refused answer fails',
  );
  t.same(writes, [['c4', 'c5', 'c6'], ['c4'], ['c5'], ['c6']]);
  t.equal((await store.read((r) => r.commands.get('c5')))?.state, 'pending', 'c5 unchanged');
  t.equal((await store.read((r) => r.commands.get('c6')))?.state, 'completed');
});

t.test('a write that fails after keeping some answers: those are still told changed', async (t) => {
  // c7 is written, then c5 is refused; alone again, c7 changes nothing: its row holds its answer.
  const { writes, batch } = watched((a) => a.id === 'c5', true);
  const results = await Promise.allSettled(['c7', 'c5'].map((id) => batch.record(answer(id))));
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected')),
    [true, 'rejected'],
    'c7 changed its command (its listeners are told); c5 fails',
  );
  t.same(writes, [['c7', 'c5'], ['c7'], ['c5']]);
  t.equal((await store.read((r) => r.commands.get('c7')))?.state, 'completed');
  t.equal((await store.read((r) => r.commands.get('c5')))?.state, 'pending', 'c5 unchanged');
  await batch.idle();
});
