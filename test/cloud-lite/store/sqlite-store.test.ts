import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
// What every store does (rollback, concurrent transactions, after-commit hooks, close) is in
// contract/; here what only the SQLite store does: the money commits' sync.
import { SqliteStore } from '../../../cloud-lite/store/sqlite/sqlite-store.js';

async function openStore(
  t: { teardown(fn: () => unknown): void },
  opts: Parameters<typeof SqliteStore.open>[1] = {},
): Promise<SqliteStore> {
  return (await openStoreAt(t, opts)).store;
}

async function openStoreAt(
  t: { teardown(fn: () => unknown): void },
  opts: Parameters<typeof SqliteStore.open>[1] = {},
): Promise<{ store: SqliteStore; file: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cloud-lite-store-'));
  const file = path.join(dir, 'hub.db');
  const store = SqliteStore.open(file, opts);
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, file };
}

const kiosk = (id: string) => ({ id, name: id, createdAt: new Date(0).toISOString() });

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

t.test('afterCommit: runs once committed, in order, before the transaction resolves', async (t) => {
  const { store, file } = await openStoreAt(t);
  const other = new Database(file, { readonly: true });
  t.teardown(() => other.close());
  const seen: string[] = [];
  const out = await store.transaction(async (tx, { afterCommit }) => {
    await tx.kiosks.insert(kiosk('k1'));
    afterCommit(() => {
      // Another connection sees the row: the commit happened before this runs.
      const row = other.prepare('SELECT id FROM kiosks WHERE id = ?').get('k1');
      seen.push(row ? 'first: committed' : 'first: not committed');
    });
    tx.afterCommit(() => seen.push('second'));
    t.same(seen, [], 'nothing runs inside the transaction');
    return 'result';
  });
  t.equal(out, 'result');
  t.same(seen, ['first: committed', 'second'], 'both ran, in order, before it resolved');
});
