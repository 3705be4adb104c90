import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { SqliteStore } from '../../../cloud-lite/store/sqlite/sqlite-store.js';

async function openStore(
  t: { teardown(fn: () => unknown): void },
  opts: Parameters<typeof SqliteStore.open>[1] = {},
): Promise<SqliteStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cloud-lite-store-'));
  const store = SqliteStore.open(path.join(dir, 'hub.db'), opts);
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

const AT = new Date(0).toISOString();
const user = (id: string) => ({
  id,
  email: `${id}@example.test`,
  phone: null,
  name: null,
  role: 'renter' as const,
  passwordHash: 'x',
  cardToken: null,
  cardLast4: null,
  createdAt: AT,
});
const topUp = (id: string, userId: string) => ({
  id,
  userId,
  kind: 'topup' as const,
  amountMinor: 5000,
  currency: 'EUR',
  paymentId: null,
  rentalId: null,
  at: AT,
  note: null,
});

t.test('a commit that wrote a money table is synced to the disk; the rest is not', async (t) => {
  const store = await openStore(t);
  const at = () => store.commitStats();
  await store.transaction((tx) => tx.kiosks.insert(kiosk('k1')));
  await store.transaction((tx) => tx.users.insert(user('u1')));
  t.same(at(), { commits: 2, synced: 0 }, 'kiosks and accounts: NORMAL, not synced');
  await store.transaction((tx) => tx.deposits.insert(topUp('d1', 'u1')));
  t.same(at(), { commits: 3, synced: 1 }, 'a deposit entry: synced before it resolved');
  // A group with one money transaction among others: the one COMMIT is synced.
  await Promise.all([
    store.transaction((tx) => tx.kiosks.insert(kiosk('k2'))),
    store.transaction((tx) => tx.deposits.insert(topUp('d2', 'u1'))),
    store.transaction((tx) => tx.kiosks.insert(kiosk('k3'))),
  ]);
  t.same(at(), { commits: 4, synced: 2 }, 'one group commit, synced');
  t.equal(await store.transaction((tx) => tx.deposits.balance('u1')), 10_000);
});

t.test('moneySync: false (benchmarks only) syncs nothing', async (t) => {
  const store = await openStore(t, { moneySync: false });
  await store.transaction((tx) => tx.users.insert(user('u1')));
  await store.transaction((tx) => tx.deposits.insert(topUp('d1', 'u1')));
  t.same(store.commitStats(), { commits: 2, synced: 0 });
});
