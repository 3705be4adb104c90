// The store contract for transactions, run against every store kind (store-kinds.ts):
// commit and rollback, a failing transaction among concurrent ones rolls back alone (SQLite:
// its savepoint in the group commit; PostgreSQL: its own transaction), after-commit hooks,
// closing, reads outside a transaction (store.read), and concurrent writers from two
// connections (two processes) that read before they write: no update lost, no slot claimed
// twice, with the kiosks' bookkeeping (read committed, autocommit) running beside them.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { PostgresStore, retryable } from '../../../../cloud-lite/store/postgres/postgres-store.js';
import type { Store, Tx, TxIsolation } from '../../../../cloud-lite/store/types.js';
import { type Kind, storeKinds } from './store-kinds.js';

const kinds = await storeKinds(t);
const T0 = new Date(0).toISOString();
const T1 = new Date(1000).toISOString();
const kiosk = (id: string) => ({ id, name: id, createdAt: T0 });
const ids = async (store: Store) =>
  (await store.transaction((tx) => tx.kiosks.list())).map((k) => k.id).sort();

async function seedCounter(tx: Tx) {
  await tx.users.insert({
    id: 'u1',
    email: 'u1@example.org',
    phone: null,
    name: null,
    role: 'renter',
    passwordHash: 'x',
    cardToken: null,
    cardLast4: null,
    createdAt: T0,
  });
  await tx.payments.insert({
    id: 'counter',
    userId: 'u1',
    provider: 'sandbox',
    providerRef: null,
    kind: 'auth',
    parentId: null,
    purpose: 'order',
    refId: null,
    amountMinor: 0,
    capturedMinor: 0,
    captureMinor: null,
    currency: 'EUR',
    state: 'authorised',
    captureAfterAuth: false,
    authorisedUntil: null,
    reason: null,
    failureCode: null,
    createdAt: T0,
    updatedAt: T0,
  });
}

/** Runs fixtures/writer.ts in a child process against the store at `location`. */
function writer(
  t: { teardown(fn: () => unknown): void },
  kind: Kind,
  location: string,
  name: string,
  rounds: number,
  slots: number,
): Promise<{ claims: number[] }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./fixtures/writer.ts', import.meta.url)),
      kind,
      location,
      name,
      String(rounds),
      String(slots),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out))
        : reject(new Error(`writer ${name} exited ${code}: ${err}`)),
    );
  });
}

for (const { kind, open } of kinds) {
  t.test(kind, async (t) => {
    t.test('a rejected transaction writes nothing and passes its error on', async (t) => {
      const { store } = await open(t);
      await t.rejects(
        store.transaction(async (tx) => {
          await tx.kiosks.insert(kiosk('x'));
          await tx.kiosks.insert(kiosk('y'));
          throw new Error('boom');
        }),
        /boom/,
      );
      await t.rejects(
        store.transaction(async (tx) => {
          await tx.kiosks.insert(kiosk('x'));
          await tx.kiosks.insert(kiosk('x'));
        }),
        'a constraint error rolls back the statements before it',
      );
      await store.transaction((tx) => tx.kiosks.insert(kiosk('z')));
      t.same(await ids(store), ['z'], 'the store goes on');
    });

    t.test('a transaction that swallows a failed statement does not commit half', async (t) => {
      const { store } = await open(t);
      await store.transaction((tx) => tx.kiosks.insert(kiosk('a')));
      const outcome = await store
        .transaction(async (tx) => {
          await tx.kiosks.insert(kiosk('b'));
          await tx.kiosks.insert(kiosk('a')).catch(() => undefined);
          await tx.kiosks.insert(kiosk('c')).catch(() => undefined);
          return 'resolved';
        })
        .catch(() => 'rejected');
      const after = await ids(store);
      // SQLite undoes the failed statement only; PostgreSQL aborts the whole transaction.
      // Either way what the store reports is what it kept: never "resolved" with b or c lost.
      if (outcome === 'resolved') t.same(after, ['a', 'b', 'c']);
      else t.same(after, ['a'], 'rejected: nothing of it kept');
    });

    t.test('concurrent transactions: a failing one rolls back alone', async (t) => {
      const { store } = await open(t);
      const results = await Promise.allSettled([
        store.transaction((tx) => tx.kiosks.insert(kiosk('a'))),
        store.transaction(async (tx) => {
          await tx.kiosks.insert(kiosk('b'));
          throw new Error('b fails');
        }),
        store.transaction((tx) => tx.kiosks.insert(kiosk('c'))),
        store.transaction(async (tx) => {
          await tx.kiosks.insert(kiosk('e'));
          await tx.kiosks.insert(kiosk('e')); // constraint error
        }),
        store.transaction((tx) => tx.kiosks.insert(kiosk('d'))),
      ]);
      t.same(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
      );
      t.same(await ids(store), ['a', 'c', 'd']);
    });

    t.test(
      'autocommit beside others: a failed statement is undone alone, the ones before it stay',
      async (t) => {
        const { store } = await open(t);
        await store.transaction((tx) => tx.kiosks.insert(kiosk('a')));
        // Queued together (SQLite: one group commit; no savepoint for the autocommit one).
        const results = await Promise.allSettled([
          store.transaction(
            async (tx) => {
              await tx.kiosks.insert(kiosk('b'));
              await tx.kiosks.insert(kiosk('a')); // constraint error
            },
            { isolation: 'autocommit' },
          ),
          store.transaction((tx) => tx.kiosks.insert(kiosk('c'))),
        ]);
        t.same(
          results.map((r) => r.status),
          ['rejected', 'fulfilled'],
        );
        t.same(await ids(store), ['a', 'b', 'c'], 'b stood alone: kept, as autocommit says');
      },
    );

    t.test(
      'autocommit on its own: a failed statement is undone alone, the ones before it stay',
      async (t) => {
        const { store } = await open(t);
        await store.transaction((tx) => tx.kiosks.insert(kiosk('a')));
        // Alone in its group on SQLite: no other transaction queued beside it.
        await t.rejects(
          store.transaction(
            async (tx) => {
              await tx.kiosks.insert(kiosk('b'));
              await tx.kiosks.insert(kiosk('a')); // constraint error
            },
            { isolation: 'autocommit' },
          ),
        );
        t.same(await ids(store), ['a', 'b'], 'b stood alone: kept, as autocommit says');
        // A transaction that did not ask for autocommit is still all or nothing.
        await t.rejects(
          store.transaction(async (tx) => {
            await tx.kiosks.insert(kiosk('c'));
            await tx.kiosks.insert(kiosk('a'));
          }),
        );
        t.same(await ids(store), ['a', 'b']);
      },
    );

    t.test(
      'afterCommit: after the commit, in order, before the transaction resolves',
      async (t) => {
        const { store, another } = await open(t);
        const other = await another();
        const seen: string[] = [];
        let read: Promise<unknown> | undefined;
        const out = await store.transaction(async (tx, { afterCommit }) => {
          await tx.kiosks.insert(kiosk('k1'));
          afterCommit(() => {
            seen.push('first');
            read = other.transaction((o) => o.kiosks.get('k1'));
          });
          tx.afterCommit(() => seen.push('second'));
          t.same(seen, [], 'nothing runs inside the transaction');
          return 'result';
        });
        t.equal(out, 'result');
        t.same(seen, ['first', 'second'], 'both ran, in order, before it resolved');
        t.match(await read, { id: 'k1' }, 'another connection sees the commit from the callback');
      },
    );

    t.test('read: sees what another connection committed, not what it has not yet', async (t) => {
      const { store, another } = await open(t);
      const other = await another();
      await other.transaction((tx) => tx.kiosks.insert(kiosk('k1')));
      t.match(await store.read((r) => r.kiosks.get('k1')), { id: 'k1' }, 'the commit is seen');
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let inserted!: () => void;
      const insertedYet = new Promise<void>((r) => {
        inserted = r;
      });
      const writing = other.transaction(async (tx) => {
        await tx.kiosks.insert(kiosk('k2'));
        inserted();
        await held;
      });
      if (kind === 'postgres') {
        // SQLite runs one transaction at a time: its read would wait for the writer.
        await insertedYet;
        t.equal(await store.read((r) => r.kiosks.get('k2')), undefined, 'not before its commit');
      }
      release();
      await writing;
      t.match(await store.read((r) => r.kiosks.get('k2')), { id: 'k2' }, 'after its commit');
    });

    t.test('afterCommit: nothing runs for a transaction that rolls back', async (t) => {
      const { store } = await open(t);
      const seen: string[] = [];
      await t.rejects(
        store.transaction(async (tx) => {
          tx.afterCommit(() => seen.push('alone'));
          throw new Error('boom');
        }),
        /boom/,
      );
      const results = await Promise.allSettled(
        ['a', 'b', 'c'].map((id) =>
          store.transaction(async (tx) => {
            await tx.kiosks.insert(kiosk(id));
            tx.afterCommit(() => seen.push(id));
            if (id === 'b') throw new Error('b fails');
          }),
        ),
      );
      t.same(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      t.same(seen.sort(), ['a', 'c']);
    });

    t.test(
      'afterCommit: a failing callback is logged; the commit and the others stand',
      async (t) => {
        const logged: Array<{ err: unknown; msg: string }> = [];
        const logger = { error: (o: { err: unknown }, msg: string) => logged.push({ ...o, msg }) };
        const { store } = await open(t, { logger: logger as never });
        const seen: string[] = [];
        const out = await store.transaction(async (tx) => {
          await tx.kiosks.insert(kiosk('k1'));
          tx.afterCommit(() => {
            throw new Error('listener broke');
          });
          tx.afterCommit(() => Promise.reject(new Error('async listener broke')));
          tx.afterCommit(() => seen.push('after the failures'));
          return 'done';
        });
        t.equal(out, 'done', 'the transaction still resolves');
        t.same(seen, ['after the failures']);
        await sleep(0);
        t.same(
          logged.map((l) => [(l.err as Error).message, l.msg]),
          [
            ['listener broke', 'after-commit callback failed'],
            ['async listener broke', 'after-commit callback failed'],
          ],
        );
        t.same(await ids(store), ['k1'], 'the commit stands');
      },
    );

    t.test('close waits for running transactions, then refuses new ones', async (t) => {
      const { store } = await open(t);
      let finished = false;
      const running = store.transaction(async (tx) => {
        await sleep(20);
        await tx.kiosks.insert(kiosk('late'));
        finished = true;
      });
      await sleep(1);
      await store.close();
      t.equal(finished, true, 'the running transaction finished before close resolved');
      await running;
      await t.rejects(
        store.transaction((tx) => tx.kiosks.list()),
        { code: 'ESTOPPED' },
      );
    });

    t.test(
      'bookkeeping isolations: read committed and autocommit commit, then afterCommit',
      async (t) => {
        const { store } = await open(t);
        const seen: string[] = [];
        await store.transaction(
          async (tx) => {
            await tx.kiosks.insert(kiosk('rc'));
            tx.afterCommit(() => seen.push('read committed'));
          },
          { isolation: 'read committed' },
        );
        await store.transaction(
          async (tx) => {
            await tx.kiosks.insert(kiosk('ac'));
            await tx.kiosks.touchMany([{ id: 'ac', at: T1 }]);
            tx.afterCommit(() => seen.push('autocommit'));
          },
          { isolation: 'autocommit' },
        );
        t.same(seen, ['read committed', 'autocommit'], 'each ran its afterCommit once, in order');
        t.match(await store.read((r) => r.kiosks.get('ac')), { lastSeenAt: T1 });
        await t.rejects(
          store.transaction(
            async (tx, { afterCommit }) => {
              await tx.kiosks.insert(kiosk('gone'));
              afterCommit(() => seen.push('rolled back'));
              throw new Error('boom');
            },
            { isolation: 'read committed' },
          ),
          /boom/,
        );
        t.same(await ids(store), ['ac', 'rc'], 'read committed rolls back whole');
        t.same(seen, ['read committed', 'autocommit'], 'no afterCommit for a rejected one');
      },
    );

    if (kind === 'postgres') {
      t.test(
        'read committed: concurrent Boots of one kiosk wait for its row; serializable ones are retried',
        async (t) => {
          const { store } = await open(t);
          const pgStore = store as PostgresStore;
          await store.transaction((tx) => tx.kiosks.insert(kiosk('k1')));
          // N transactions read the kiosk's row (a serializable one takes its snapshot there),
          // all wait until every one has read, then each updates the row.
          const race = async (isolation: TxIsolation) => {
            const before = pgStore.commitStats().retries;
            const n = 3;
            let arrived = 0;
            let go!: () => void;
            const allRead = new Promise<void>((r) => {
              go = r;
            });
            await Promise.all(
              Array.from({ length: n }, (_, i) =>
                store.transaction(
                  async (tx) => {
                    await tx.kiosks.get('k1');
                    if (++arrived === n) go();
                    await allRead;
                    await tx.kiosks.recordBoot('k1', {
                      at: new Date(1000 * (i + 1)).toISOString(),
                      softwareVersion: `v${i}`,
                      imageVersion: null,
                      slotCount: 8,
                      bootReason: 'PowerOn',
                    });
                  },
                  { isolation },
                ),
              ),
            );
            return pgStore.commitStats().retries - before;
          };
          t.ok((await race('serializable')) > 0, 'serializable: concurrent updates retried');
          t.equal(await race('read committed'), 0, 'read committed: they take turns, no retry');
          t.match(
            await store.read((r) => r.kiosks.get('k1')),
            { slotCount: 8, softwareVersion: /^v[012]$/ },
            'every Boot applied, the last one stays',
          );
        },
      );
    }

    if (kind === 'postgres') {
      t.test(
        'a connection broken while a transaction holds it: the transaction fails, the process goes on, the store too',
        async (t) => {
          const { location } = await open(t);
          let heard!: () => void;
          const broke = new Promise<void>((resolve) => {
            heard = resolve;
          });
          const store = await PostgresStore.open(location, {
            poolSize: 1,
            logger: { error: () => heard() } as never,
          });
          t.teardown(() => store.close());
          let proceed!: () => void;
          const gate = new Promise<void>((resolve) => {
            proceed = resolve;
          });
          let inside!: () => void;
          const holding = new Promise<void>((resolve) => {
            inside = resolve;
          });
          const tx = store.transaction(async (tx) => {
            await tx.kiosks.insert(kiosk('cut'));
            inside();
            await gate;
            await tx.kiosks.setLastSeq('cut', 1);
          });
          await holding;
          // The backend idle in this transaction is terminated (as a server restart does).
          const admin = await PostgresStore.open(location, { poolSize: 1 });
          t.teardown(() => admin.close());
          const pg = await import('pg');
          const c = new pg.default.Client({ connectionString: location });
          await c.connect();
          const cut = await c.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction'",
          );
          await c.end();
          t.equal(cut.rowCount, 1, 'the transaction backend was terminated');
          // Without a listener on the handed-out connection, its 'error' ends this process.
          await broke;
          proceed();
          await t.rejects(tx, 'the transaction failed');
          await store.transaction((tx) => tx.kiosks.insert(kiosk('after')));
          t.ok(await admin.read((r) => r.kiosks.get('after')), 'the store works on');
          t.equal(await admin.read((r) => r.kiosks.get('cut')), undefined, 'nothing half-written');
        },
      );
      t.test(
        'retryable: serialisation failures, deadlocks, and running out of predicate locks',
        async (t) => {
          t.ok(retryable({ code: '40001' }));
          t.ok(retryable({ code: '40P01' }));
          t.ok(
            retryable({
              code: '53200',
              hint: 'You might need to increase max_pred_locks_per_transaction.',
            }),
          );
          t.notOk(retryable({ code: '53200' }), 'other out-of-memory errors are not retried');
          t.notOk(retryable({ code: '23505' }));
          t.notOk(retryable(new Error('Connection terminated unexpectedly')));
        },
      );
    }

    if (kind === 'postgres') {
      t.test(
        'syncBookkeeping false (the default): bookkeeping commits without waiting for the flush, serialisable transactions wait; true: every commit waits',
        async (t) => {
          const { store, location } = await open(t);
          // The default, as a hub opens it without the setting.
          const fast = await PostgresStore.open(location, { poolSize: 1 });
          t.teardown(() => fast.close());
          const synced = await PostgresStore.open(location, { poolSize: 1, syncBookkeeping: true });
          t.teardown(() => synced.close());
          await synced.transaction((tx) => tx.kiosks.insert(kiosk('k0')), {
            isolation: 'autocommit',
          });
          await synced.transaction((tx) => tx.kiosks.setLastSeq('k0', 1), {
            isolation: 'read committed',
          });
          t.match(synced.commitStats(), { commits: 2, synced: 2 }, 'true: both waited');
          // One connection: the transaction after the autocommit runs on the unsynced session.
          await fast.transaction((tx) => tx.kiosks.insert(kiosk('k1')), {
            isolation: 'autocommit',
          });
          await fast.transaction((tx) => tx.kiosks.touchMany([{ id: 'k1', at: T1 }]), {
            isolation: 'autocommit',
          });
          await fast.transaction((tx) =>
            tx.kiosks.recordBoot('k1', {
              at: T1,
              softwareVersion: 'v1',
              imageVersion: null,
              slotCount: 4,
              bootReason: 'PowerOn',
            }),
          );
          await fast.transaction((tx) => tx.kiosks.setLastSeq('k1', 7), {
            isolation: 'read committed',
          });
          t.match(
            fast.commitStats(),
            { commits: 4, synced: 1 },
            'only the serialisable transaction waited (its session switched back for it)',
          );
          t.match(
            await store.read((r) => r.kiosks.get('k1')),
            { lastSeenAt: T1, softwareVersion: 'v1', lastSeq: 7 },
            'all of it committed, seen from another pool',
          );
        },
      );
    }

    if (kind === 'postgres') {
      t.test(
        "a connection's repositories are built once; each transaction has its own afterCommit",
        async (t) => {
          const { location } = await open(t);
          const one = await PostgresStore.open(location, { poolSize: 1 });
          t.teardown(() => one.close());
          const seen: Array<{ tx: Tx; ran: string[] }> = [];
          for (const name of ['first', 'second']) {
            const ran: string[] = [];
            await one.transaction(
              async (tx) => {
                seen.push({ tx, ran });
                await tx.kiosks.insert(kiosk(name));
                tx.afterCommit(() => ran.push(name));
              },
              { isolation: 'autocommit' },
            );
          }
          const [a, b] = seen;
          t.equal(a!.tx.kiosks, b!.tx.kiosks, 'the same repository objects on one connection');
          t.equal(
            await one.read(async (r) => (r.commands === a!.tx.commands ? 'shared' : 'built')),
            'shared',
            'read() on the connection uses them too',
          );
          t.same([a!.ran, b!.ran], [['first'], ['second']], 'each afterCommit ran its own');
        },
      );
    }

    t.test('one connection, concurrent read-then-write transactions: no update lost', async (t) => {
      const { store } = await open(t);
      await store.transaction(seedCounter);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          store.transaction(async (tx) => {
            const p = await tx.payments.get('counter');
            await sleep(1);
            await tx.payments.update('counter', { capturedMinor: (p?.capturedMinor ?? 0) + 1 });
          }),
        ),
      );
      t.equal((await store.transaction((tx) => tx.payments.get('counter')))?.capturedMinor, 20);
    });

    t.test(
      'two connections (two processes) writing at once: no update lost, no slot claimed twice',
      async (t) => {
        const { store, location } = await open(t);
        const slots = 6;
        await store.transaction(async (tx) => {
          await seedCounter(tx);
          await tx.kiosks.insert(kiosk('k1'));
          for (let s = 1; s <= slots; s++)
            await tx.slots.upsert({
              kioskId: 'k1',
              slot: s,
              state: 'ready',
              snapshot: {},
              updatedAt: T0,
            });
        });
        const rounds = 8;
        const [a, b] = await Promise.all([
          writer(t, kind, location, 'A', rounds, slots),
          writer(t, kind, location, 'B', rounds, slots),
        ]);
        t.equal(
          (await store.transaction((tx) => tx.payments.get('counter')))?.capturedMinor,
          2 * rounds,
          'every increment of both writers counted',
        );
        const all = [...a.claims, ...b.claims].sort((x, y) => x - y);
        t.same(all, [1, 2, 3, 4, 5, 6], 'every slot claimed exactly once across both writers');
        t.match(
          await store.read((r) => r.kiosks.get('k1')),
          { softwareVersion: /^[AB]$/, slotCount: slots },
          "the writers' bookkeeping beside them committed",
        );
        const list = await store.transaction((tx) => tx.slots.list('k1'));
        t.same(
          list.map((s) => [s.slot, s.snapshot.by]),
          list.map((s) => [s.slot, a.claims.includes(s.slot) ? 'A' : 'B']),
          'the stored claimant is the writer that was told it won',
        );
      },
    );
  });
}
