import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
// What every store does (rollback, concurrent transactions, after-commit hooks, close) is in
// contract/; here what only the SQLite store does: the money commits' sync, reads outside a
// transaction.
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

t.test('read: no transaction of its own, and never sees uncommitted writes', async (t) => {
  const store = await openStore(t);
  await store.transaction((tx) => tx.kiosks.insert(kiosk('k1')));
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    return { open, opened };
  };

  // Outside a transaction: no BEGIN and COMMIT (the store's commit count stays).
  const commits = store.commitStats().commits;
  t.equal((await store.read((r) => r.kiosks.get('k1')))?.id, 'k1');
  t.equal(store.commitStats().commits, commits, 'a read commits nothing');

  // A transaction is open (its group waits on something): a read waits its turn and sees the
  // outcome, committed or rolled back, never the writes in between.
  const held = gate();
  const writing = store.transaction(async (tx) => {
    await tx.kiosks.insert(kiosk('k2'));
    await held.opened;
  });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const seen = store.read((r) => r.kiosks.get('k2'));
  held.open();
  await writing;
  t.equal((await seen)?.id, 'k2', 'the read saw the write once committed');

  const failing = gate();
  const rolledBack = store.transaction(async (tx) => {
    await tx.kiosks.insert(kiosk('k3'));
    await failing.opened;
    throw new Error('no');
  });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const notSeen = store.read((r) => r.kiosks.get('k3'));
  failing.open();
  await t.rejects(rolledBack, { message: 'no' });
  t.equal(await notSeen, undefined, 'a write rolled back was never seen');

  // A read running outside a transaction holds the next group back until it has finished:
  // its later statements never see that group's uncommitted writes.
  const reading = gate();
  const twoReads = store.read(async (r) => {
    const first = await r.kiosks.get('k4');
    await reading.opened;
    return [first, await r.kiosks.get('k4')];
  });
  let committed = false;
  const write = store
    .transaction((tx) => tx.kiosks.insert(kiosk('k4')))
    .then(() => {
      committed = true;
    });
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  t.equal(committed, false, 'the write waits for the read running outside a transaction');
  reading.open();
  t.same(await twoReads, [undefined, undefined], 'neither statement saw the write');
  await write;
  t.equal((await store.read((r) => r.kiosks.get('k4')))?.id, 'k4', 'then the write committed');

  // A read started a few microtasks after a group ended, while the next group (a write that
  // rolls back) is about to begin: wherever it lands, none of its statements sees that write.
  for (let k = 0; k < 12; k++) {
    const hold = gate();
    const a = store.transaction(async (tx) => {
      await tx.kiosks.get('k1');
      await hold.opened;
    });
    await new Promise((r) => setImmediate(r));
    const b = store.transaction(async (tx) => {
      await tx.kiosks.insert(kiosk(`ghost${k}`));
      throw new Error('rolled back');
    });
    await new Promise((r) => setImmediate(r));
    const read = a.then(async () => {
      for (let i = 0; i < k; i++) await Promise.resolve();
      return store.read(async (r) => [
        (await r.kiosks.get(`ghost${k}`))?.id,
        (await r.kiosks.get(`ghost${k}`))?.id,
      ]);
    });
    hold.open();
    await t.rejects(b, { message: 'rolled back' });
    t.same(
      await read,
      [undefined, undefined],
      `a read ${k} microtasks after a group never sees the next group's rolled-back write`,
    );
  }
});
