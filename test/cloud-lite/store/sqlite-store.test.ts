import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SqliteStore } from '../../../cloud-lite/store/sqlite/sqlite-store.js';

async function openStore(t: { teardown(fn: () => unknown): void }): Promise<SqliteStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cloud-lite-store-'));
  const store = SqliteStore.open(path.join(dir, 'hub.db'));
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

const kiosk = (id: string) => ({ id, name: id, createdAt: new Date(0).toISOString() });

t.test('group commit: a failing transaction in a group rolls back alone', async (t) => {
  const store = await openStore(t);
  // Queued together: they run in one BEGIN ... COMMIT, each in its own savepoint.
  const results = await Promise.allSettled([
    store.transaction((tx) => tx.kiosks.insert(kiosk('a'))),
    store.transaction(async (tx) => {
      await tx.kiosks.insert(kiosk('b'));
      throw new Error('b fails');
    }),
    store.transaction((tx) => tx.kiosks.insert(kiosk('c'))),
    store.transaction((tx) => tx.kiosks.insert(kiosk('a'))), // duplicate id: constraint error
    store.transaction((tx) => tx.kiosks.insert(kiosk('d'))),
  ]);
  t.same(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
  );
  t.same((await store.transaction((tx) => tx.kiosks.list())).map((k) => k.id).sort(), [
    'a',
    'c',
    'd',
  ]);
});

t.test('a transaction alone in its group rolls back entirely and the store goes on', async (t) => {
  const store = await openStore(t);
  await t.rejects(
    store.transaction(async (tx) => {
      await tx.kiosks.insert(kiosk('x'));
      await tx.kiosks.insert(kiosk('y'));
      throw new Error('boom');
    }),
    /boom/,
  );
  await store.transaction((tx) => tx.kiosks.insert(kiosk('z')));
  t.same(
    (await store.transaction((tx) => tx.kiosks.list())).map((k) => k.id),
    ['z'],
  );
});

t.test('a closed store refuses new transactions', async (t) => {
  const store = await openStore(t);
  await store.close();
  await t.rejects(
    store.transaction((tx) => tx.kiosks.list()),
    { code: 'ESTOPPED' },
  );
});
