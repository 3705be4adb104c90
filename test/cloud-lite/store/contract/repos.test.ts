// The store contract, repository by repository: every behaviour a repository interface in
// cloud-lite/store/repos/ promises, run against every store kind (store-kinds.ts); and
// opening a store: the schema is migrated to the same version in both kinds (each SQLite
// migration has its PostgreSQL twin), a database of a newer cloud-lite is refused
// (ESTOREVERSION); PostgreSQL: an unreachable server or one too old is refused in one line
// (ESTOREUNREACHABLE, ESTORETOOOLD) naming host:port/database, never the password.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import t from 'tap';
import { pgMigrations } from '../../../../cloud-lite/store/postgres/migrations/index.js';
import {
  checkServerVersion,
  PostgresStore,
} from '../../../../cloud-lite/store/postgres/postgres-store.js';
import { migrations } from '../../../../cloud-lite/store/sqlite/migrations/index.js';
import type {
  CommandRecord,
  OrderRecord,
  PaymentRecord,
  ReservationRecord,
  Store,
  Tx,
} from '../../../../cloud-lite/store/types.js';
import { orderRecord, userRecord } from '../../fixtures/records.js';
import { openStoreAt, storeKinds } from './store-kinds.js';

const kinds = await storeKinds(t);
const T0 = '2026-01-01T00:00:00.000Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
const run = <T>(store: Store, fn: (tx: Tx) => Promise<T>) => store.transaction(fn);

async function seedUser(tx: Tx, id = 'u1') {
  await tx.users.insert(userRecord(id, T0));
}

const command = (id: string, o: Partial<CommandRecord> = {}): CommandRecord => ({
  id,
  kioskId: 'k1',
  action: 'Dispense',
  payload: { slot: 1, nested: { a: [1, 2] } },
  state: 'pending',
  createdAt: T0,
  updatedAt: T0,
  deadline: at(60),
  attempts: 0,
  lastSentAt: null,
  result: null,
  ...o,
});

const order = (id: string, o: Partial<OrderRecord> = {}): OrderRecord =>
  orderRecord(id, T0, {
    days: 3,
    slot: null,
    // The terms kept with the sale (migration 015).
    overdueFeePerDayMinor: 300,
    lostDiskChargeMinor: 5000,
    steps: [{ at: T0, state: 'created', message: 'ordered' }],
    ...o,
  });

const payment = (id: string, o: Partial<PaymentRecord> = {}): PaymentRecord => ({
  id,
  userId: 'u1',
  provider: 'sandbox',
  providerRef: null,
  kind: 'auth',
  parentId: null,
  purpose: 'order',
  refId: null,
  amountMinor: 1500,
  capturedMinor: 0,
  captureMinor: null,
  currency: 'EUR',
  state: 'authorising',
  captureAfterAuth: false,
  failureCode: null,
  authorisedUntil: null,
  reason: null,
  createdAt: T0,
  updatedAt: T0,
  ...o,
});

const reservation = (id: string, o: Partial<ReservationRecord> = {}): ReservationRecord => ({
  id,
  userId: 'u1',
  idempotencyKey: null,
  requestHash: null,
  kioskId: 'k1',
  diskTypeId: 'dt',
  days: 2,
  writeProtect: false,
  amountMinor: 1000,
  currency: 'EUR',
  state: 'preparing',
  progress: null,
  slot: null,
  diskId: null,
  holdUntil: at(3600),
  prepareDeadline: at(600),
  failureReason: null,
  fees: [],
  paymentId: null,
  commandId: null,
  orderId: null,
  pickupCodeCommandId: null,
  overdueFeePerDayMinor: 0,
  lostDiskChargeMinor: 2_000_000_000_000,
  createdAt: T0,
  updatedAt: T0,
  ...o,
});

for (const { kind, open } of kinds) {
  t.test(kind, async (t) => {
    t.test('kiosks: insert, status, boot, seq, revoke', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k2', name: 'Two', createdAt: T0 });
        await tx.kiosks.insert({ id: 'k1', name: 'One', createdAt: T0 });
      });
      await t.rejects(run(store, (tx) => tx.kiosks.insert({ id: 'k1', name: 'x', createdAt: T0 })));
      t.same(
        (await run(store, (tx) => tx.kiosks.list())).map((k) => k.id),
        ['k1', 'k2'],
        'listed by id',
      );
      const fresh = await run(store, (tx) => tx.kiosks.get('k1'));
      t.same(fresh, {
        id: 'k1',
        name: 'One',
        createdAt: T0,
        secretHash: null,
        revokedAt: null,
        status: 'offline',
        lastSeenAt: null,
        connectedAt: null,
        softwareVersion: null,
        imageVersion: null,
        slotCount: null,
        lastBootAt: null,
        bootReason: null,
        lastSeq: 0,
        databaseId: null,
        seqSince: null,
        hubProcess: null,
        features: null,
      });
      await run(store, async (tx) => {
        await tx.kiosks.setSecretHash('k1', Buffer.from([0, 1, 255]));
        await tx.kiosks.setOnline('k1', at(1));
        await tx.kiosks.setOnline('k2', at(1));
        await tx.kiosks.recordBoot('k1', {
          at: at(2),
          softwareVersion: '1.2.3',
          imageVersion: null,
          slotCount: 12,
          bootReason: 'power_on',
        });
        await tx.kiosks.setLastSeq('k1', 2 ** 40);
        await tx.kiosks.touchMany([{ id: 'k2', at: at(5) }]);
      });
      const k1 = await run(store, (tx) => tx.kiosks.get('k1'));
      t.same(k1?.secretHash, Buffer.from([0, 1, 255]), 'secret hash round-trips as bytes');
      t.match(k1, {
        status: 'online',
        connectedAt: at(1),
        lastSeenAt: at(2),
        lastBootAt: at(2),
        softwareVersion: '1.2.3',
        slotCount: 12,
        bootReason: 'power_on',
        lastSeq: 2 ** 40,
      });
      t.equal(typeof k1?.lastSeq, 'number', 'integers come back as numbers');
      t.equal(await run(store, (tx) => tx.kiosks.countOnline()), 2);
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k0', name: 'Zero', createdAt: T0 });
        await tx.kiosks.recordBoot('k0', {
          at: at(3),
          softwareVersion: '1.2.3',
          imageVersion: null,
          slotCount: 4,
          bootReason: 'power_on',
          claim: { connectedAt: at(3), hubProcess: 'hub-a' },
        });
      });
      t.same(
        await run(store, (tx) => tx.kiosks.listBooted()),
        [
          { id: 'k0', name: 'Zero', status: 'online', lastSeenAt: at(3), hubProcess: 'hub-a' },
          { id: 'k1', name: 'One', status: 'online', lastSeenAt: at(2), hubProcess: null },
        ],
        'the booted kiosks by id, only their sweep fields (k2 never booted)',
      );
      await run(store, (tx) => tx.kiosks.setOffline('k2', at(6)));
      t.match(await run(store, (tx) => tx.kiosks.get('k2')), {
        status: 'offline',
        lastSeenAt: at(6),
      });
      await run(store, (tx) => tx.kiosks.revoke('k1', at(7)));
      t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
        revokedAt: at(7),
        secretHash: null,
        status: 'offline',
      });
      t.same(
        (await run(store, (tx) => tx.kiosks.listBooted())).map((k) => k.id),
        ['k0'],
        'a revoked kiosk is not listed as booted',
      );
      await run(store, async (tx) => {
        await tx.kiosks.setOnline('k2', at(8));
        await tx.kiosks.setAllOffline(at(9));
      });
      t.equal(await run(store, (tx) => tx.kiosks.countOnline()), 0);
      t.equal(await run(store, (tx) => tx.kiosks.get('nope')), undefined);
    });

    t.test('kiosks: the session registry (the hub process holding the socket)', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        for (const id of ['k1', 'k2', 'k3'])
          await tx.kiosks.insert({ id, name: id, createdAt: T0 });
        await tx.kiosks.setOnline('k1', at(1), 'proc-a');
        await tx.kiosks.setOnline('k1', at(2), 'proc-b');
        await tx.kiosks.setOnline('k2', at(2), 'proc-a');
        await tx.kiosks.setOnline('k3', at(2), 'proc-c');
      });
      t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
        status: 'online',
        hubProcess: 'proc-b',
        connectedAt: at(2),
      });
      // proc-a's write for its older connection, delayed (a retried transaction), comes last.
      t.equal(
        await run(store, (tx) => tx.kiosks.setOnline('k1', at(1), 'proc-a')),
        false,
        'a delayed write for an older connection is not applied',
      );
      t.match(await run(store, (tx) => tx.kiosks.get('k1')), { hubProcess: 'proc-b' });
      t.equal(
        await run(store, (tx) => tx.kiosks.setOffline('k1', at(3), 'proc-a')),
        false,
        'the replaced socket closing on proc-a leaves proc-b the holder',
      );
      t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
        status: 'online',
        hubProcess: 'proc-b',
      });
      t.equal(await run(store, (tx) => tx.kiosks.setOffline('k1', at(5), 'proc-b')), true);
      t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
        status: 'offline',
        hubProcess: null,
      });
      t.equal(await run(store, (tx) => tx.kiosks.countOnline()), 2);
      // No process proc-a or proc-c has a connection: PostgreSQL releases their kiosks; SQLite
      // (one process, which marks all offline when it starts) has nothing to release.
      t.same(
        (await run(store, (tx) => tx.kiosks.releaseDeadHolders(at(6)))).sort(),
        kind === 'postgres' ? ['k2', 'k3'] : [],
      );
      t.equal(await run(store, (tx) => tx.kiosks.countOnline()), kind === 'postgres' ? 0 : 2);
    });

    t.test(
      'kiosks: a late close leaves a newer claim; claims again; the live process is not released',
      async (t) => {
        const { store } = await open(t);
        await run(store, async (tx) => {
          for (const id of ['k1', 'k2', 'k3', 'k4'])
            await tx.kiosks.insert({ id, name: id, createdAt: T0 });
          await tx.kiosks.setOnline('k1', at(3), 'proc-a');
          await tx.kiosks.setOnline('k2', at(1), 'proc-a');
        });
        // proc-a's socket of k1 that connected at 1 closes, recorded after its connection of 3
        // claimed the kiosk: the newer claim stays.
        t.equal(
          await run(store, (tx) => tx.kiosks.setOffline('k1', at(4), 'proc-a', at(1))),
          false,
        );
        t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
          status: 'online',
          hubProcess: 'proc-a',
          connectedAt: at(3),
        });
        t.equal(await run(store, (tx) => tx.kiosks.setOffline('k1', at(5), 'proc-a', at(3))), true);
        // A socket not Booted (no claim of its own) closing clears its process's older claim.
        t.equal(await run(store, (tx) => tx.kiosks.setOffline('k2', at(5), 'proc-a', at(2))), true);
        t.match(await run(store, (tx) => tx.kiosks.get('k2')), {
          status: 'offline',
          hubProcess: null,
        });

        // Claimed again: k1 (offline), k2 (offline); k3 held by proc-b with a later connection
        // stays proc-b's; k4 revoked is not claimed; what is claimed already is not written.
        await run(store, async (tx) => {
          await tx.kiosks.setOnline('k3', at(9), 'proc-b');
          await tx.kiosks.revoke('k4', at(6));
        });
        const again = (hub: string, sessions: Array<{ id: string; connectedAt: string }>) =>
          run(store, (tx) => tx.kiosks.reclaim(hub, sessions));
        const held = [
          { id: 'k1', connectedAt: at(3) },
          { id: 'k2', connectedAt: at(2) },
          { id: 'k3', connectedAt: at(8) },
          { id: 'k4', connectedAt: at(8) },
        ];
        t.same((await again('proc-a', held)).sort(), ['k1', 'k2']);
        t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
          status: 'online',
          hubProcess: 'proc-a',
          connectedAt: at(3),
          lastSeenAt: at(5),
        });
        t.match(await run(store, (tx) => tx.kiosks.get('k3')), {
          hubProcess: 'proc-b',
          connectedAt: at(9),
        });
        t.match(await run(store, (tx) => tx.kiosks.get('k4')), {
          status: 'offline',
          hubProcess: null,
        });
        t.same(await again('proc-a', held), [], 'nothing changes the second time');
        t.same(await again('proc-a', []), []);
        // proc-b's older connection of k1 takes it over from nobody, not from proc-a's newer one.
        t.same(await again('proc-b', [{ id: 'k1', connectedAt: at(2) }]), []);
        t.same(await again('proc-b', [{ id: 'k1', connectedAt: at(3) }]), ['k1'], 'a tie: taken');

        // No connection named proc-a or proc-b: PostgreSQL releases their kiosks, but never
        // those of the process it is told is alive.
        t.same(
          (await run(store, (tx) => tx.kiosks.releaseDeadHolders(at(10), 'proc-b'))).sort(),
          kind === 'postgres' ? ['k2'] : [],
        );
        t.match(await run(store, (tx) => tx.kiosks.get('k3')), {
          status: 'online',
          hubProcess: 'proc-b',
        });
      },
    );

    t.test(
      'kiosks: a Boot with a new database id resets the seq and records since when',
      async (t) => {
        const { store } = await open(t);
        const boot = (at: string, databaseId?: string) => ({
          at,
          softwareVersion: '1',
          imageVersion: null,
          slotCount: 4,
          bootReason: 'power_on',
          databaseId,
        });
        await run(store, (tx) => tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 }));
        const kept = { claimed: true, outstanding: false, databaseReplaced: false };
        t.same(await run(store, (tx) => tx.kiosks.recordBoot('k1', boot(at(1)))), kept);
        await run(store, (tx) => tx.kiosks.setLastSeq('k1', 40));
        t.same(
          await run(store, (tx) => tx.kiosks.recordBoot('k1', boot(at(2), 'db-a'))),
          kept,
          'the first id is recorded, nothing lost',
        );
        t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
          databaseId: 'db-a',
          lastSeq: 40,
          seqSince: null,
        });
        t.same(await run(store, (tx) => tx.kiosks.recordBoot('k1', boot(at(3), 'db-a'))), kept);
        t.same(await run(store, (tx) => tx.kiosks.recordBoot('k1', boot(at(4), 'db-b'))), {
          claimed: true,
          outstanding: false,
          databaseReplaced: true,
          previous: 'db-a',
        });
        t.match(
          await run(store, (tx) => tx.kiosks.get('k1')),
          { databaseId: 'db-a', lastSeq: 40, seqSince: null, lastBootAt: at(4) },
          'the Boot is recorded, the old id left for replaceDatabase',
        );
        const replace = { databaseId: 'db-b', previous: 'db-a', at: at(4) };
        t.same(await run(store, (tx) => tx.kiosks.replaceDatabase('k1', replace)), {
          lastSeq: 40,
        });
        t.equal(
          await run(store, (tx) => tx.kiosks.replaceDatabase('k1', replace)),
          undefined,
          'a second Boot of the new database replaces nothing more',
        );
        t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
          databaseId: 'db-b',
          lastSeq: 0,
          seqSince: at(4),
          lastBootAt: at(4),
        });
        t.same(await run(store, (tx) => tx.kiosks.recordBoot('ghost', boot(at(5), 'db-c'))), {
          claimed: false,
        });
      },
    );

    t.test(
      'kiosks: a Boot claims the kiosk (the newest connection wins) and tells of waiting commands',
      async (t) => {
        const { store } = await open(t);
        const boot = (n: number, hubProcess: string, connectedAt = at(n)) => ({
          at: at(n),
          softwareVersion: `v${n}`,
          imageVersion: null,
          slotCount: 4,
          bootReason: 'PowerOn',
          claim: { connectedAt, hubProcess },
        });
        await run(store, (tx) => tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 }));
        t.match(await run(store, (tx) => tx.kiosks.recordBoot('k1', boot(2, 'proc-b'))), {
          claimed: true,
          outstanding: false,
        });
        t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
          status: 'online',
          hubProcess: 'proc-b',
          connectedAt: at(2),
          softwareVersion: 'v2',
        });
        // proc-a's older connection (at 1) boots late: nothing of it is written.
        t.same(
          await run(store, (tx) => tx.kiosks.recordBoot('k1', boot(3, 'proc-a', at(1)))),
          { claimed: false },
          'a Boot of an older connection on another process is not applied',
        );
        t.match(await run(store, (tx) => tx.kiosks.get('k1')), {
          hubProcess: 'proc-b',
          connectedAt: at(2),
          softwareVersion: 'v2',
          lastBootAt: at(2),
        });
        await run(store, (tx) =>
          tx.commands.insert({
            id: 'c1',
            kioskId: 'k1',
            action: 'EnableSlot',
            payload: { slot: 1 },
            state: 'pending',
            createdAt: at(3),
            updatedAt: at(3),
            deadline: at(60),
            attempts: 0,
            lastSentAt: null,
            result: null,
          }),
        );
        t.match(
          await run(store, (tx) => tx.kiosks.recordBoot('k1', boot(4, 'proc-a'))),
          { claimed: true, outstanding: true },
          'a newer connection on another process takes it over; a pending command is told',
        );
        t.match(await run(store, (tx) => tx.kiosks.get('k1')), { hubProcess: 'proc-a' });
      },
    );

    t.test(
      'kiosks: a batch of heartbeats never sets lastSeenAt back (a Boot recorded meanwhile stays)',
      async (t) => {
        const { store } = await open(t);
        await run(store, async (tx) => {
          for (const id of ['k1', 'k2', 'k3'])
            await tx.kiosks.insert({ id, name: id, createdAt: T0 });
          await tx.kiosks.recordBoot('k1', {
            at: at(5),
            softwareVersion: '1',
            imageVersion: null,
            slotCount: 4,
            bootReason: 'PowerOn',
          });
        });
        // k1's heartbeat at 4 was gathered before its Boot at 5 committed; the batch commits after.
        await run(store, (tx) =>
          tx.kiosks.touchMany([
            { id: 'k1', at: at(4) },
            { id: 'k2', at: at(6) },
            { id: 'ghost', at: at(6) },
          ]),
        );
        const seen = async (id: string) =>
          (await run(store, (tx) => tx.kiosks.get(id)))?.lastSeenAt;
        t.equal(
          await seen('k1'),
          at(5),
          'the later Boot is not overwritten by the older heartbeat',
        );
        t.equal(await seen('k2'), at(6));
        t.equal(await seen('k3'), null, 'a kiosk not in the batch is untouched');
        await run(store, (tx) => tx.kiosks.touchMany([{ id: 'k1', at: at(7) }]));
        t.equal(await seen('k1'), at(7));
      },
    );

    t.test(
      "kiosks: a Boot's protocol features are kept as sent, none listed is null",
      async (t) => {
        const { store } = await open(t);
        const boot = (features?: string[] | null) => ({
          at: at(1),
          softwareVersion: '1',
          imageVersion: null,
          slotCount: 4,
          bootReason: 'PowerOn',
          features,
        });
        await run(store, (tx) => tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 }));
        await run(store, (tx) =>
          tx.kiosks.recordBoot('k1', boot(['apply-config', 'x-new', 'apply-config'])),
        );
        t.same(
          (await run(store, (tx) => tx.kiosks.get('k1')))?.features,
          ['apply-config', 'x-new'],
          'unknown names kept, repeats once',
        );
        t.same((await run(store, (tx) => tx.kiosks.list()))[0]?.features, [
          'apply-config',
          'x-new',
        ]);
        await run(store, (tx) => tx.kiosks.recordBoot('k1', boot([])));
        t.same((await run(store, (tx) => tx.kiosks.get('k1')))?.features, [], 'an empty list');
        await run(store, (tx) => tx.kiosks.recordBoot('k1', boot()));
        t.equal(
          (await run(store, (tx) => tx.kiosks.get('k1')))?.features,
          null,
          'a later Boot without features (older software) clears them',
        );
      },
    );

    t.test('enrolment tokens: one use, invalidated per kiosk', async (t) => {
      const { store } = await open(t);
      const h1 = Buffer.from('a'.repeat(32));
      const h2 = Buffer.from('b'.repeat(32));
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 });
        await tx.enrolmentTokens.insert({
          tokenHash: h1,
          kioskId: 'k1',
          createdAt: T0,
          expiresAt: at(60),
        });
        await tx.enrolmentTokens.insert({
          tokenHash: h2,
          kioskId: 'k1',
          createdAt: T0,
          expiresAt: at(60),
        });
      });
      t.same(await run(store, (tx) => tx.enrolmentTokens.get(h1)), {
        tokenHash: h1,
        kioskId: 'k1',
        createdAt: T0,
        expiresAt: at(60),
        usedAt: null,
      });
      await run(store, (tx) => tx.enrolmentTokens.markUsed(h1, at(1)));
      await run(store, (tx) => tx.enrolmentTokens.markUsed(h1, at(2)));
      t.equal(
        (await run(store, (tx) => tx.enrolmentTokens.get(h1)))?.usedAt,
        at(1),
        'first use stays',
      );
      await run(store, (tx) => tx.enrolmentTokens.invalidateForKiosk('k1', at(3)));
      t.equal((await run(store, (tx) => tx.enrolmentTokens.get(h2)))?.usedAt, at(3));
      t.equal(await run(store, (tx) => tx.enrolmentTokens.get(Buffer.from('zz'))), undefined);
      await t.rejects(
        run(store, (tx) =>
          tx.enrolmentTokens.insert({
            tokenHash: Buffer.from('c'),
            kioskId: 'ghost',
            createdAt: T0,
            expiresAt: T0,
          }),
        ),
        'a token of an unknown kiosk is refused (foreign key)',
      );
    });

    t.test('slots: replaceAll, upsert, get, list', async (t) => {
      const { store } = await open(t);
      const snap = (slot: number, state: string) => ({
        slot,
        state,
        disk: { id: `d${slot}`, bytes: 2 ** 40 },
      });
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 });
        await tx.slots.replaceAll('k1', [
          { kioskId: 'k1', slot: 2, state: 'ready', snapshot: snap(2, 'ready'), updatedAt: T0 },
          { kioskId: 'k1', slot: 1, state: 'empty', snapshot: snap(1, 'empty'), updatedAt: T0 },
        ]);
      });
      t.same(
        (await run(store, (tx) => tx.slots.list('k1'))).map((s) => [s.slot, s.state]),
        [
          [1, 'empty'],
          [2, 'ready'],
        ],
      );
      t.same(await run(store, (tx) => tx.slots.get('k1', 2)), {
        kioskId: 'k1',
        slot: 2,
        state: 'ready',
        snapshot: snap(2, 'ready'),
        updatedAt: T0,
      });
      await run(store, (tx) =>
        tx.slots.upsert({
          kioskId: 'k1',
          slot: 2,
          state: 'claimed',
          snapshot: snap(2, 'claimed'),
          updatedAt: at(1),
        }),
      );
      await run(store, (tx) =>
        tx.slots.upsert({
          kioskId: 'k1',
          slot: 3,
          state: 'ready',
          snapshot: snap(3, 'ready'),
          updatedAt: at(1),
        }),
      );
      t.same(
        (await run(store, (tx) => tx.slots.list('k1'))).map((s) => [s.slot, s.state, s.updatedAt]),
        [
          [1, 'empty', T0],
          [2, 'claimed', at(1)],
          [3, 'ready', at(1)],
        ],
      );
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k0', name: 'k0', createdAt: T0 });
        await tx.slots.replaceAll('k0', [
          { kioskId: 'k0', slot: 2, state: 'fault', snapshot: snap(2, 'fault'), updatedAt: T0 },
          { kioskId: 'k0', slot: 1, state: 'ready', snapshot: snap(1, 'ready'), updatedAt: T0 },
        ]);
      });
      t.same(
        (await run(store, (tx) => tx.slots.listInStates(['ready', 'fault']))).map((s) => [
          s.kioskId,
          s.slot,
          s.state,
        ]),
        [
          ['k0', 1, 'ready'],
          ['k0', 2, 'fault'],
          ['k1', 3, 'ready'],
        ],
        'listInStates: the slots of every kiosk in those states, by kiosk and slot',
      );
      t.same(await run(store, (tx) => tx.slots.listInStates([])), []);

      // listReadyStock: the ready slots of one content, only the fields the stock rules read
      // (null where the snapshot has none), by kiosk and slot, a page at a time.
      const disk = (slot: number, o: Record<string, unknown>) => ({
        slot,
        state: 'ready',
        writeProtect: false,
        diskId: `disk-${slot}`,
        capacityBytes: 2 ** 40,
        contentId: 'movies',
        ...o,
      });
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k2', name: 'k2', createdAt: T0 });
        await tx.slots.replaceAll('k2', [
          { kioskId: 'k2', slot: 4, state: 'ready', snapshot: disk(4, {}), updatedAt: T0 },
          {
            kioskId: 'k2',
            slot: 1,
            state: 'ready',
            snapshot: disk(1, { contentVersion: '2', reservationId: 'r1' }),
            updatedAt: T0,
          },
          {
            kioskId: 'k2',
            slot: 2,
            state: 'ready',
            snapshot: disk(2, { contentId: 'music' }),
            updatedAt: T0,
          },
          {
            kioskId: 'k2',
            slot: 3,
            state: 'reserved',
            snapshot: disk(3, { state: 'reserved' }),
            updatedAt: T0,
          },
          {
            kioskId: 'k2',
            slot: 5,
            state: 'ready',
            snapshot: { slot: 5, state: 'ready', writeProtect: false, contentId: 'movies' },
            updatedAt: T0,
          },
        ]);
        await tx.kiosks.insert({ id: 'k10', name: 'k10', createdAt: T0 });
        await tx.slots.replaceAll('k10', [
          { kioskId: 'k10', slot: 7, state: 'ready', snapshot: disk(7, {}), updatedAt: T0 },
        ]);
      });
      const full = (slot: number) => ({
        diskId: `disk-${slot}`,
        contentVersion: null,
        capacityBytes: 2 ** 40,
        reservationId: null,
      });
      const movies = [
        { kioskId: 'k10', slot: 7, ...full(7) },
        { kioskId: 'k2', slot: 1, ...full(1), contentVersion: '2', reservationId: 'r1' },
        { kioskId: 'k2', slot: 4, ...full(4) },
        {
          kioskId: 'k2',
          slot: 5,
          diskId: null,
          contentVersion: null,
          capacityBytes: null,
          reservationId: null,
        },
      ];
      t.same(
        await run(store, (tx) => tx.slots.listReadyStock('movies', 10)),
        movies,
        'listReadyStock: ready slots of that content, by kiosk and slot, only the rule fields',
      );
      t.same(await run(store, (tx) => tx.slots.listReadyStock('movies', 2)), movies.slice(0, 2));
      t.same(
        await run(store, (tx) => tx.slots.listReadyStock('movies', 2, movies[1])),
        movies.slice(2),
        'the page after a slot',
      );
      t.same(
        await run(store, (tx) => tx.slots.listReadyStock('movies', 2, movies[3])),
        [],
        'none after the last',
      );
      t.same(
        (await run(store, (tx) => tx.slots.listReadyStock('music', 10))).map((s) => s.slot),
        [2],
      );
      await run(store, (tx) => tx.slots.replaceAll('k1', []));
      t.same(await run(store, (tx) => tx.slots.list('k1')), []);
      t.equal(await run(store, (tx) => tx.slots.get('k1', 1)), undefined);
    });

    t.test('commands: insertIfKiosk records only for a kiosk as the caller found it', async (t) => {
      const { store } = await open(t);
      await run(store, (tx) => tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 }));
      const ins = (id: string, kioskId: string, booted: boolean, features: string[] | null) =>
        run(store, (tx) =>
          tx.commands.insertIfKiosk(command(id, { kioskId }), { booted, features }),
        );
      t.equal(await ins('c0', 'nope', false, null), false, 'no such kiosk: nothing recorded');
      t.equal(await ins('c1', 'k1', true, null), false, 'never booted, said booted: refused');
      t.equal(await ins('c2', 'k1', false, null), true, 'never booted, as said: recorded');
      const boot = (features: string[] | null) =>
        run(store, (tx) =>
          tx.kiosks.recordBoot('k1', {
            at: at(1),
            softwareVersion: '1',
            imageVersion: null,
            slotCount: 4,
            bootReason: 'power_on',
            features,
          }),
        );
      await boot(['prepare-slot', 'install-update']);
      t.equal(await ins('c3', 'k1', false, null), false, 'booted since: refused');
      t.equal(await ins('c4', 'k1', true, ['prepare-slot']), false, 'other features: refused');
      t.equal(await ins('c5', 'k1', true, null), false, 'features listed, said none: refused');
      t.equal(await ins('c6', 'k1', true, ['prepare-slot', 'install-update']), true, 'as said');
      await boot(null);
      t.equal(await ins('c7', 'k1', true, null), true, 'booted listing none, as said');
      t.same(
        (await run(store, (tx) => tx.commands.listOutstanding('k1'))).map((c) => c.id),
        ['c2', 'c6', 'c7'],
        'only those were recorded',
      );
      t.same(await run(store, (tx) => tx.commands.get('c6')), command('c6', { kioskId: 'k1' }));
    });

    t.test('commands: outstanding, send, final states, expiry, counts', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 });
        // Same created_at: insertion order breaks the tie.
        await tx.commands.insert(command('c2'));
        await tx.commands.insert(command('c1'));
        await tx.commands.insert(command('c3', { createdAt: at(1), deadline: at(5) }));
      });
      t.same(await run(store, (tx) => tx.commands.get('c2')), command('c2'), 'round-trips');
      t.same(
        (await run(store, (tx) => tx.commands.listOutstanding('k1'))).map((c) => c.id),
        ['c2', 'c1', 'c3'],
      );
      t.same(
        (await run(store, (tx) => tx.commands.listForKiosk('k1', { limit: 2 }))).map((c) => c.id),
        ['c3', 'c1'],
        'newest first, ties newest-inserted first',
      );
      t.same(
        (
          await run(store, (tx) =>
            tx.commands.listForKiosk('k1', { limit: 5, beforeCreatedAt: at(1) }),
          )
        ).map((c) => c.id),
        ['c1', 'c2'],
      );
      t.equal(await run(store, (tx) => tx.commands.markSent('c1', at(2))), true);
      t.equal(await run(store, (tx) => tx.commands.markSent('c1', at(3))), true);
      t.match(await run(store, (tx) => tx.commands.get('c1')), {
        state: 'sent',
        attempts: 2,
        lastSentAt: at(3),
        updatedAt: at(3),
      });
      t.equal(await run(store, (tx) => tx.commands.setState('c1', 'accepted', at(4))), true);
      t.equal(
        await run(store, (tx) => tx.commands.markSent('c1', at(4))),
        false,
        'accepted is not re-sent',
      );
      t.equal(
        await run(store, (tx) =>
          tx.commands.setState('c1', 'completed', at(5), { ok: true }, ['pending']),
        ),
        false,
        'onlyFrom refuses another state',
      );
      t.equal(
        await run(store, (tx) =>
          tx.commands.setState('c1', 'completed', at(5), { ok: true }, ['accepted']),
        ),
        true,
      );
      t.equal(
        await run(store, (tx) => tx.commands.setState('c1', 'failed', at(6), { code: 'x' })),
        false,
        'final is final',
      );
      t.match(await run(store, (tx) => tx.commands.get('c1')), {
        state: 'completed',
        result: { ok: true },
        updatedAt: at(5),
      });
      t.equal(await run(store, (tx) => tx.commands.setState('c2', 'accepted', at(6), null)), true);
      t.equal(
        (await run(store, (tx) => tx.commands.get('c2')))?.result,
        null,
        'null result keeps none',
      );
      const expired = await run(store, (tx) => tx.commands.expireDue(at(10)));
      t.same(
        expired.map((c) => [c.id, c.state, c.updatedAt]),
        [['c3', 'expired', at(10)]],
        'only outstanding past deadline',
      );
      t.same(await run(store, (tx) => tx.commands.expireDue(at(10))), [], 'expires once');
      t.same(await run(store, (tx) => tx.commands.countByState()), {
        completed: 1,
        accepted: 1,
        expired: 1,
      });
      t.equal(await run(store, (tx) => tx.commands.setState('nope', 'failed', at(1))), false);
    });

    t.test('commands: an answer that counts its send (setAnswered)', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 });
        await tx.commands.insert(command('p1'));
        await tx.commands.insert(command('s1'));
        await tx.commands.insert(command('x1'));
      });
      await run(store, (tx) => tx.commands.markSent('s1', at(1)));
      const answer = (id: string, state: 'completed' | 'accepted') =>
        run(store, (tx) => tx.commands.setAnswered(id, state, at(3), { status: 'ok' }, at(2)));
      t.equal(await answer('p1', 'completed'), true, 'from pending');
      t.match(await run(store, (tx) => tx.commands.get('p1')), {
        state: 'completed',
        attempts: 1,
        lastSentAt: at(2),
        updatedAt: at(3),
        result: { status: 'ok' },
      });
      t.equal(await answer('s1', 'accepted'), true, 'from sent (an earlier send marked)');
      t.match(await run(store, (tx) => tx.commands.get('s1')), {
        state: 'accepted',
        attempts: 2,
        lastSentAt: at(2),
      });
      t.equal(await answer('s1', 'completed'), false, 'not from accepted');
      await run(store, (tx) => tx.commands.expireDue(at(100)));
      t.equal(await answer('x1', 'completed'), false, 'not from a final state');
      t.match(await run(store, (tx) => tx.commands.get('x1')), { state: 'expired', attempts: 0 });
      t.equal(await answer('nope', 'completed'), false);
      // The send of an answer that came too late still counts, once, in any state.
      const count = (id: string, s: number) => run(store, (tx) => tx.commands.countSend(id, at(s)));
      t.equal(await count('x1', 2), true);
      t.match(await run(store, (tx) => tx.commands.get('x1')), {
        state: 'expired',
        attempts: 1,
        lastSentAt: at(2),
      });
      t.equal(await count('x1', 2), false, 'that send is counted already');
      t.equal(await count('s1', 1), false, 'a later send is recorded');
      t.equal(await count('nope', 2), false);
    });

    t.test('commands: several answers recorded at once (recordAnswers)', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 });
        for (const id of ['p1', 's1', 's2', 'x1']) await tx.commands.insert(command(id));
      });
      await run(store, (tx) => tx.commands.markSent('s1', at(1)));
      await run(store, (tx) => tx.commands.markSent('s2', at(1)));
      await run(store, (tx) => tx.commands.setState('x1', 'failed', at(1)));
      const changed = await run(store, (tx) =>
        tx.commands.recordAnswers([
          { id: 'p1', state: 'completed', at: at(3), result: { status: 'ok' }, sentAt: at(2) },
          { id: 'x1', state: 'completed', at: at(3), result: { status: 'ok' }, sentAt: at(2) },
          { id: 's1', state: 'accepted', at: at(4), result: { n: 1 }, sentAt: null },
          { id: 'nope', state: 'completed', at: at(3), result: {}, sentAt: null },
          { id: 's2', state: 'rejected', at: at(5), result: { status: 'Rejected' }, sentAt: at(4) },
        ]),
      );
      t.same(changed, [true, false, true, false, true], 'whether each changed, in order');
      const get = (id: string) => run(store, (tx) => tx.commands.get(id));
      t.match(await get('p1'), { state: 'completed', attempts: 1, updatedAt: at(3) }, 'p1');
      t.match(
        await get('s1'),
        { state: 'accepted', attempts: 1, lastSentAt: at(1), updatedAt: at(4), result: { n: 1 } },
        'without sentAt: the send as marked',
      );
      t.match(
        await get('s2'),
        { state: 'rejected', attempts: 2, lastSentAt: at(4), result: { status: 'Rejected' } },
        'with sentAt: that send counted too',
      );
      t.match(
        await get('x1'),
        { state: 'failed', attempts: 0, lastSentAt: null },
        'a final state stays',
      );
      t.same(await run(store, (tx) => tx.commands.recordAnswers([])), []);
    });

    t.test('commands: a state outside the seven is refused by the schema', async (t) => {
      // SQLite: the table's CHECK; PostgreSQL: the command_state domain's (migration 019).
      const { store } = await open(t);
      const bogus = 'bogus' as CommandRecord['state'];
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 });
        await tx.commands.insert(command('c1'));
      });
      await t.rejects(run(store, (tx) => tx.commands.insert(command('c2', { state: bogus }))));
      await t.rejects(run(store, (tx) => tx.commands.setState('c1', bogus, at(1))));
      const answer = { id: 'c1', state: bogus, at: at(1), result: {}, sentAt: null };
      await t.rejects(run(store, (tx) => tx.commands.recordAnswers([answer])));
      t.match(await run(store, (tx) => tx.commands.get('c1')), { state: 'pending' });
      t.equal(await run(store, (tx) => tx.commands.get('c2')), undefined);
    });

    t.test('events: insert once, by seq, listed after a seq', async (t) => {
      const { store } = await open(t);
      const ev = (id: string, seq: number) => ({
        eventId: id,
        kioskId: 'k1',
        seq,
        type: 'DiskInserted',
        at: at(seq),
        data: { slot: seq, list: [seq, 'x'], nil: null },
        receivedAt: at(seq + 1),
      });
      await run(store, (tx) => tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 }));
      t.equal(await run(store, (tx) => tx.events.insertIfNew(ev('e1', 1))), true);
      t.equal(
        await run(store, (tx) => tx.events.insertIfNew(ev('e1', 9))),
        false,
        'a replayed id writes nothing',
      );
      await run(store, async (tx) => {
        await tx.events.insertIfNew(ev('e3', 3));
        await tx.events.insertIfNew(ev('e2', 2));
      });
      t.same(await run(store, (tx) => tx.events.get('e1')), ev('e1', 1));
      t.same(await run(store, (tx) => tx.events.findBySeq('k1', 3)), ev('e3', 3));
      t.equal(await run(store, (tx) => tx.events.findBySeq('k1', 9)), undefined);
      t.same(
        await run(store, (tx) => tx.events.findBySeq('k1', 3, at(4))),
        ev('e3', 3),
        'received at or after since',
      );
      t.equal(
        await run(store, (tx) => tx.events.findBySeq('k1', 3, at(5))),
        undefined,
        'received before since',
      );
      t.same(await run(store, (tx) => tx.events.findBySeq('k1', 3, null)), ev('e3', 3));
      t.same(
        (await run(store, (tx) => tx.events.listForKiosk('k1', { limit: 10 }))).map((e) => e.seq),
        [1, 2, 3],
      );
      t.same(
        (await run(store, (tx) => tx.events.listForKiosk('k1', { afterSeq: 1, limit: 1 }))).map(
          (e) => e.seq,
        ),
        [2],
      );
      await run(store, async (tx) => {
        await tx.events.insertIfNew({ ...ev('u1', 4), type: 'UpdateStatus' });
        await tx.events.insertIfNew({ ...ev('u2', 5), type: 'UpdateStatus' });
        await tx.events.insertIfNew({ ...ev('o1', 6), kioskId: 'k1', type: 'DiskRemoved' });
      });
      t.same(
        (await run(store, (tx) => tx.events.latestOfType('k1', 'UpdateStatus', 10))).map(
          (e) => e.eventId,
        ),
        ['u2', 'u1'],
        'latestOfType: only that type, most recently received first',
      );
      t.same(
        (await run(store, (tx) => tx.events.latestOfType('k1', 'UpdateStatus', 1))).map(
          (e) => e.eventId,
        ),
        ['u2'],
        'latestOfType: limited',
      );
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k2', name: 'k2', createdAt: T0 });
        for (const [id, kioskId, seq] of [
          ['p1', 'k1', 7],
          ['p2', 'k1', 8],
          ['p3', 'k2', 1],
          ['p4', 'k2', 2],
          ['p5', 'k2', 3],
        ] as const)
          await tx.events.insertIfNew({ ...ev(id, seq), kioskId, type: 'PrepareFailed' });
        await tx.kiosks.setLastSeq('k1', 8);
        await tx.kiosks.setLastSeq('k2', 3);
      });
      const recent = async (since: string) =>
        (
          await run(store, (tx) =>
            tx.events.recentOfType('PrepareFailed', { receivedSince: since, window: 2 }),
          )
        ).map((e) => e.eventId);
      t.same(
        await recent(at(3)),
        ['p1', 'p2', 'p4', 'p5'],
        "recentOfType: every kiosk's events of the type among its newest 2 seqs, by kiosk and seq",
      );
      t.same(await recent(at(4)), ['p1', 'p2', 'p5'], 'recentOfType: received at or after since');
    });

    t.test('users, sessions, pending registrations', async (t) => {
      const { store } = await open(t);
      await run(store, (tx) => seedUser(tx));
      await run(store, (tx) =>
        tx.users.insert({
          id: 'u2',
          email: null,
          phone: '+33600000000',
          name: null,
          role: 'operator',
          passwordHash: 'p',
          cardToken: null,
          cardLast4: null,
          createdAt: T0,
        }),
      );
      await t.rejects(
        run(store, (tx) => seedUser(tx, 'u1')),
        'a duplicate id is refused',
      );
      await t.rejects(
        run(store, (tx) =>
          tx.users.insert({
            id: 'u3',
            email: 'u1@example.org',
            phone: null,
            name: null,
            role: 'renter',
            passwordHash: 'p',
            cardToken: null,
            cardLast4: null,
            createdAt: T0,
          }),
        ),
        'a taken e-mail is refused',
      );
      t.equal((await run(store, (tx) => tx.users.findByLogin('+33600000000')))?.id, 'u2');
      t.equal((await run(store, (tx) => tx.users.findByLogin('u1@example.org')))?.id, 'u1');
      t.equal(await run(store, (tx) => tx.users.findByLogin('x')), undefined);
      t.equal(await run(store, (tx) => tx.users.count()), 2);
      await run(store, (tx) => tx.users.update('u1', { cardToken: 'tok', cardLast4: '4242' }));
      t.match(await run(store, (tx) => tx.users.get('u1')), {
        cardToken: 'tok',
        cardLast4: '4242',
        role: 'renter',
      });
      const h = Buffer.from('session');
      await run(store, (tx) =>
        tx.sessions.insert({
          tokenHash: h,
          userId: 'u1',
          createdAt: T0,
          expiresAt: at(60),
          ip: '::1',
          revokedAt: null,
        }),
      );
      t.same(await run(store, (tx) => tx.sessions.get(h)), {
        tokenHash: h,
        userId: 'u1',
        createdAt: T0,
        expiresAt: at(60),
        ip: '::1',
        revokedAt: null,
      });
      await run(store, (tx) => tx.sessions.revoke(h, at(5)));
      t.equal((await run(store, (tx) => tx.sessions.get(h)))?.revokedAt, at(5));
      const reg = (n: string, expiresAt: string) => ({
        tokenHash: Buffer.from(n),
        email: `${n}@x.org`,
        phone: null,
        name: n,
        passwordHash: 'p',
        createdAt: T0,
        expiresAt,
        ip: null,
        // The registration's language (migration 015), which the account keeps.
        language: n === 'r1' ? 'zh-CN' : null,
      });
      await run(store, async (tx) => {
        await tx.pendingRegistrations.insert(reg('r1', at(10)));
        await tx.pendingRegistrations.insert(reg('r2', at(100)));
        await tx.pendingRegistrations.insert(reg('r3', at(100)));
      });
      t.same(
        await run(store, (tx) => tx.pendingRegistrations.get(Buffer.from('r1'))),
        reg('r1', at(10)),
      );
      await run(store, (tx) => tx.pendingRegistrations.removeExpired(at(50)));
      await run(store, (tx) => tx.pendingRegistrations.remove(Buffer.from('r3')));
      t.equal(await run(store, (tx) => tx.pendingRegistrations.get(Buffer.from('r1'))), undefined);
      t.ok(await run(store, (tx) => tx.pendingRegistrations.get(Buffer.from('r2'))));
      t.equal(await run(store, (tx) => tx.pendingRegistrations.get(Buffer.from('r3'))), undefined);
    });

    t.test('login failures: since, removeOne, prune, clear', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        for (const s of [1, 2, 2, 3]) await tx.loginFailures.add('acct:a', at(s));
        await tx.loginFailures.add('acct:b', at(1));
      });
      t.same(await run(store, (tx) => tx.loginFailures.since('acct:a', at(2))), [
        at(2),
        at(2),
        at(3),
      ]);
      await run(store, (tx) => tx.loginFailures.removeOne('acct:a', at(2)));
      t.same(
        await run(store, (tx) => tx.loginFailures.since('acct:a', at(0))),
        [at(1), at(2), at(3)],
        'one of two removed',
      );
      await run(store, (tx) => tx.loginFailures.prune(at(2), 'acct:a'));
      t.same(await run(store, (tx) => tx.loginFailures.since('acct:a', at(0))), [at(2), at(3)]);
      t.same(
        await run(store, (tx) => tx.loginFailures.since('acct:b', at(0))),
        [at(1)],
        'other keys kept',
      );
      await run(store, (tx) => tx.loginFailures.prune(at(3)));
      t.same(await run(store, (tx) => tx.loginFailures.since('acct:b', at(0))), []);
      await run(store, (tx) => tx.loginFailures.clear('acct:a'));
      t.same(await run(store, (tx) => tx.loginFailures.since('acct:a', at(0))), []);
    });

    t.test('deposits, charges, webhook events', async (t) => {
      const { store } = await open(t);
      await run(store, (tx) => seedUser(tx));
      const entry = (id: string, amountMinor: number, kind: 'topup' | 'charge') => ({
        id,
        userId: 'u1',
        kind,
        amountMinor,
        currency: 'EUR',
        paymentId: null,
        rentalId: null,
        at: T0,
        note: null,
      });
      t.equal(await run(store, (tx) => tx.deposits.balance('u1')), 0, 'no entries: 0');
      await run(store, async (tx) => {
        await tx.deposits.insert(entry('d2', 5000, 'topup'));
        await tx.deposits.insert(entry('d1', -1200, 'charge'));
      });
      t.equal(await run(store, (tx) => tx.deposits.balance('u1')), 3800);
      t.same(
        (await run(store, (tx) => tx.deposits.list('u1'))).map((e) => e.id),
        ['d2', 'd1'],
        'insertion order at equal times',
      );
      const charge = (id: string, kind: 'rental' | 'overdue') => ({
        id,
        userId: 'u1',
        rentalId: 'r1',
        reservationId: null,
        kind,
        amountMinor: 700,
        currency: 'EUR',
        paymentId: null,
        at: T0,
      });
      await run(store, async (tx) => {
        await tx.charges.insert(charge('c2', 'rental'));
        await tx.charges.insert(charge('c1', 'overdue'));
      });
      t.same(await run(store, (tx) => tx.charges.listByRental('r1')), [
        charge('c2', 'rental'),
        charge('c1', 'overdue'),
      ]);
      t.equal(await run(store, (tx) => tx.webhookEvents.insertIfNew('sandbox', 'ev1', T0)), true);
      t.equal(
        await run(store, (tx) => tx.webhookEvents.insertIfNew('sandbox', 'ev1', at(1))),
        false,
      );
      t.equal(await run(store, (tx) => tx.webhookEvents.insertIfNew('other', 'ev1', T0)), true);
    });

    t.test('payments: keyed access, provider refs, lists', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        await seedUser(tx);
        await tx.payments.insert(payment('p1', { refId: 'o1', captureAfterAuth: true }));
        await tx.payments.insert(
          payment('p2', { refId: 'o1', state: 'authorised', updatedAt: at(5) }),
        );
        await tx.payments.insert(
          payment('p3', { kind: 'refund', parentId: 'p1', purpose: 'refund', reason: 'goodwill' }),
        );
      });
      t.same(
        await run(store, (tx) => tx.payments.get('p1')),
        payment('p1', { refId: 'o1', captureAfterAuth: true }),
      );
      t.equal(
        (await run(store, (tx) => tx.payments.get('p3')))?.reason,
        'goodwill',
        "a refund's reason round-trips",
      );
      t.equal(
        (await run(store, (tx) => tx.payments.get('p2')))?.captureAfterAuth,
        false,
        'booleans round-trip',
      );
      await run(store, (tx) =>
        tx.payments.update('p1', {
          providerRef: 'ref-1',
          state: 'captured',
          capturedMinor: 1500,
          updatedAt: at(9),
        }),
      );
      t.match(await run(store, (tx) => tx.payments.findByProviderRef('sandbox', 'ref-1')), {
        id: 'p1',
        state: 'captured',
        capturedMinor: 1500,
      });
      t.equal(await run(store, (tx) => tx.payments.findByProviderRef('other', 'ref-1')), undefined);
      await t.rejects(
        run(store, (tx) => tx.payments.update('p2', { providerRef: 'ref-1' })),
        'a provider ref belongs to one payment',
      );
      t.same(
        (await run(store, (tx) => tx.payments.listByRef('o1'))).map((p) => p.id),
        ['p1', 'p2'],
      );
      t.same(
        (await run(store, (tx) => tx.payments.listChildren('p1'))).map((p) => p.id),
        ['p3'],
      );
      t.same(
        (await run(store, (tx) => tx.payments.listByUser('u1'))).map((p) => p.id),
        ['p1', 'p2', 'p3'],
      );
      t.same(
        (
          await run(store, (tx) => tx.payments.listByState(['authorised', 'authorising'], at(4)))
        ).map((p) => p.id),
        ['p3'],
      );
      t.same(
        (
          await run(store, (tx) => tx.payments.listByState(['authorised', 'authorising'], at(5)))
        ).map((p) => p.id),
        ['p2', 'p3'],
      );
    });

    t.test('payments: authorisations lapsing before a time, soonest first', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        await seedUser(tx);
        await tx.payments.insert(
          payment('late', { state: 'authorised', authorisedUntil: at(900) }),
        );
        await tx.payments.insert(
          payment('soon', { state: 'authorised', authorisedUntil: at(100) }),
        );
        await tx.payments.insert(payment('unknown', { state: 'authorised' }));
        await tx.payments.insert(payment('taken', { state: 'captured', authorisedUntil: at(50) }));
      });
      t.equal((await run(store, (tx) => tx.payments.get('soon')))?.authorisedUntil, at(100));
      t.same(
        (await run(store, (tx) => tx.payments.listLapsingBefore(at(1000)))).map((p) => p.id),
        ['soon', 'late'],
      );
      t.same(
        (await run(store, (tx) => tx.payments.listLapsingBefore(at(100)))).map((p) => p.id),
        ['soon'],
      );
    });

    t.test('sandbox provider books', async (t) => {
      const { store } = await open(t);
      const sp = {
        id: 'sp1',
        reference: 'o1',
        cardToken: 'tok',
        amountMinor: 900,
        currency: 'EUR',
        state: 'authorised' as const,
        capturedMinor: 0,
        refundedMinor: 0,
        captures: 0,
        createdAt: T0,
        updatedAt: T0,
      };
      await run(store, async (tx) => {
        await tx.sandbox.insertPayment(sp);
        await tx.sandbox.insertPayment({ ...sp, id: 'sp2', createdAt: at(1) });
        await tx.sandbox.updatePayment('sp1', {
          state: 'captured',
          capturedMinor: 900,
          captures: 1,
        });
        await tx.sandbox.addLedger({ paymentId: 'sp1', op: 'authorise', amountMinor: 900, at: T0 });
        await tx.sandbox.addLedger({
          paymentId: 'sp1',
          op: 'capture',
          amountMinor: 900,
          at: at(1),
        });
        await tx.sandbox.insertCard('tok', '4242424242424242', '4242');
        await tx.sandbox.putIdempotent('idem-1', 'capture', { ok: true, amount: 900, list: [1] });
      });
      t.match(await run(store, (tx) => tx.sandbox.getPayment('sp1')), {
        state: 'captured',
        capturedMinor: 900,
        captures: 1,
      });
      t.equal(
        (await run(store, (tx) => tx.sandbox.findByReference('o1')))?.id,
        'sp2',
        'newest of a reference',
      );
      t.same(
        (await run(store, (tx) => tx.sandbox.listPayments())).map((p) => p.id),
        ['sp1', 'sp2'],
      );
      t.same(
        (await run(store, (tx) => tx.sandbox.ledger())).map((e) => [
          typeof e.id,
          e.op,
          e.amountMinor,
        ]),
        [
          ['number', 'authorise', 900],
          ['number', 'capture', 900],
        ],
      );
      t.same(await run(store, (tx) => tx.sandbox.getCard('tok')), {
        token: 'tok',
        number: '4242424242424242',
        last4: '4242',
      });
      t.same(await run(store, (tx) => tx.sandbox.getIdempotent('idem-1')), {
        operation: 'capture',
        result: { ok: true, amount: 900, list: [1] },
      });
      t.equal(await run(store, (tx) => tx.sandbox.getIdempotent('nope')), undefined);
      await t.rejects(
        run(store, (tx) => tx.sandbox.putIdempotent('idem-1', 'capture', {})),
        'an idempotency key is written once',
      );
    });

    t.test('catalog: content, disk types, sites', async (t) => {
      const { store } = await open(t);
      const big = 4 * 2 ** 40;
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k1', name: 'k1', createdAt: T0 });
        await tx.content.insert({
          id: 'c2',
          title: 'B',
          version: '1',
          sizeBytes: big,
          description: '',
        });
        await tx.content.insert({
          id: 'c1',
          title: 'A',
          version: '1',
          sizeBytes: 10,
          description: 'd',
        });
        await tx.diskTypes.insert({
          id: 'dt',
          capacityBytes: big,
          contentId: 'c1',
          writeProtect: 'allowed',
          pricePerDayMinor: 500,
          currency: 'EUR',
          defaultDays: 3,
          maxDays: 30,
          kioskIds: ['k1', 'k2'],
        });
        await tx.diskTypes.insert({
          id: 'ds',
          capacityBytes: 64,
          contentId: 'c2',
          writeProtect: 'forced',
          pricePerDayMinor: 100,
          currency: 'EUR',
          defaultDays: 1,
          maxDays: 2,
          kioskIds: null,
        });
        await tx.sites.upsert({
          kioskId: 'k1',
          name: 'Hall',
          address: '1 Road',
          lat: 48.8566,
          lng: 2.3522,
        });
      });
      t.same(
        (await run(store, (tx) => tx.content.list())).map((c) => c.id),
        ['c1', 'c2'],
        'by title',
      );
      t.equal(
        (await run(store, (tx) => tx.content.get('c2')))?.sizeBytes,
        big,
        'sizes beyond 32 bits',
      );
      await run(store, (tx) => tx.content.update('c1', { version: '2' }));
      t.equal((await run(store, (tx) => tx.content.get('c1')))?.version, '2');
      t.same(
        (await run(store, (tx) => tx.diskTypes.list())).map((d) => d.id),
        ['ds', 'dt'],
        'by capacity',
      );
      t.same(
        (await run(store, (tx) => tx.diskTypes.get('dt')))?.kioskIds,
        ['k1', 'k2'],
        'JSON arrays round-trip',
      );
      t.equal((await run(store, (tx) => tx.diskTypes.get('ds')))?.kioskIds, null);
      await run(store, (tx) => tx.diskTypes.update('ds', { kioskIds: ['k1'], maxDays: 5 }));
      t.match(await run(store, (tx) => tx.diskTypes.get('ds')), { kioskIds: ['k1'], maxDays: 5 });
      await t.rejects(
        run(store, (tx) =>
          tx.diskTypes.insert({
            id: 'bad',
            capacityBytes: 1,
            contentId: 'nope',
            writeProtect: 'off',
            pricePerDayMinor: 1,
            currency: 'EUR',
            defaultDays: 1,
            maxDays: 1,
            kioskIds: null,
          }),
        ),
        'a disk type of unknown content is refused',
      );
      t.same(await run(store, (tx) => tx.sites.get('k1')), {
        kioskId: 'k1',
        name: 'Hall',
        address: '1 Road',
        lat: 48.8566,
        lng: 2.3522,
      });
      await run(store, (tx) =>
        tx.sites.upsert({ kioskId: 'k1', name: 'Hall B', address: '2 Road', lat: -1.5, lng: 0 }),
      );
      t.same(await run(store, (tx) => tx.sites.list()), [
        { kioskId: 'k1', name: 'Hall B', address: '2 Road', lat: -1.5, lng: 0 },
      ]);
    });

    t.test('orders: idempotency keys, by command, by state, last at a slot', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        await seedUser(tx);
        await tx.orders.insert(
          order('o1', { idempotencyKey: 'key-1', commandId: 'cmd-1', slot: 4 }),
        );
        await tx.orders.insert(order('o2', { state: 'dispensing', slot: 4, createdAt: at(1) }));
        await tx.orders.insert(order('o3', { state: 'dispensing', slot: 5, createdAt: at(1) }));
      });
      t.same(
        await run(store, (tx) => tx.orders.get('o1')),
        order('o1', { idempotencyKey: 'key-1', commandId: 'cmd-1', slot: 4 }),
      );
      t.equal((await run(store, (tx) => tx.orders.findByIdempotencyKey('u1', 'key-1')))?.id, 'o1');
      t.equal(await run(store, (tx) => tx.orders.findByIdempotencyKey('u2', 'key-1')), undefined);
      await t.rejects(
        run(store, (tx) => tx.orders.insert(order('o4', { idempotencyKey: 'key-1' }))),
        'one order per idempotency key and user',
      );
      t.equal((await run(store, (tx) => tx.orders.findByCommand('cmd-1')))?.id, 'o1');
      t.same(
        (await run(store, (tx) => tx.orders.listByUser('u1', 2))).map((o) => o.id),
        ['o3', 'o2'],
      );
      t.same(
        (await run(store, (tx) => tx.orders.listByStates(['dispensing', 'jam_hold'], 10))).map(
          (o) => o.id,
        ),
        ['o2', 'o3'],
      );
      t.same(
        (await run(store, (tx) => tx.orders.listRecent(10))).map((o) => o.id),
        ['o3', 'o2', 'o1'],
      );
      t.equal((await run(store, (tx) => tx.orders.findLastAtSlot('k1', 4)))?.id, 'o2');
      const steps = [
        ...order('o1').steps,
        { at: at(2), state: 'failed', message: 'jam', until: at(9) },
      ];
      await run(store, (tx) =>
        tx.orders.update('o1', { state: 'failed', steps, writeProtect: false, updatedAt: at(2) }),
      );
      t.match(await run(store, (tx) => tx.orders.get('o1')), {
        state: 'failed',
        steps,
        writeProtect: false,
      });
    });

    t.test('reservations, rentals, extensions', async (t) => {
      const { store } = await open(t);
      await run(store, async (tx) => {
        await seedUser(tx);
        await tx.reservations.insert(reservation('r1', { idempotencyKey: 'k' }));
        await tx.reservations.insert(reservation('r2', { state: 'ready', createdAt: at(1) }));
      });
      t.same(
        await run(store, (tx) => tx.reservations.get('r1')),
        reservation('r1', { idempotencyKey: 'k' }),
      );
      const progress = {
        step: 'copy',
        bytesDone: 2 ** 33,
        bytesTotal: 2 ** 34,
        percent: 50,
        etaSeconds: 12,
      };
      const fees = [
        { kind: 'no_show', amountMinor: 200, currency: 'EUR', at: at(3), message: 'late' },
      ];
      await run(store, (tx) =>
        tx.reservations.update('r1', {
          progress,
          fees,
          writeProtect: true,
          pickupCodeCommandId: 'cmd-arm-1',
        }),
      );
      t.match(await run(store, (tx) => tx.reservations.get('r1')), {
        progress,
        fees,
        writeProtect: true,
        pickupCodeCommandId: 'cmd-arm-1',
      });
      t.equal(
        (await run(store, (tx) => tx.reservations.findByIdempotencyKey('u1', 'k')))?.id,
        'r1',
      );
      t.same(
        (await run(store, (tx) => tx.reservations.listByUser('u1', 5))).map((r) => r.id),
        ['r2', 'r1'],
      );
      t.same(
        (await run(store, (tx) => tx.reservations.listByStates(['ready'], 5))).map((r) => r.id),
        ['r2'],
      );
      t.same(
        (await run(store, (tx) => tx.reservations.listRecent(1))).map((r) => r.id),
        ['r2'],
      );

      const rental = (id: string, o: object = {}) => ({
        id,
        userId: 'u1',
        orderId: `o-${id}`,
        diskId: 'disk-1',
        diskTypeId: 'dt',
        kioskId: 'k1',
        startedAt: T0,
        dueAt: at(86400),
        returnedAt: null,
        returnKioskId: null,
        state: 'open' as const,
        overdueDaysCharged: 0,
        overdueFeePerDayMinor: 250,
        lostDiskChargeMinor: null,
        ...o,
      });
      await run(store, async (tx) => {
        await tx.rentals.insert(
          rental('n1', { state: 'returned', returnedAt: at(5), dueAt: at(10) }),
        );
        await tx.rentals.insert(rental('n2', { startedAt: at(6) }));
      });
      t.same(await run(store, (tx) => tx.rentals.get('n2')), rental('n2', { startedAt: at(6) }));
      t.equal((await run(store, (tx) => tx.rentals.findByOrder('o-n1')))?.id, 'n1');
      t.equal((await run(store, (tx) => tx.rentals.findUnreturnedByDisk('disk-1')))?.id, 'n2');
      t.same(
        (await run(store, (tx) => tx.rentals.listByUser('u1'))).map((r) => r.id),
        ['n2', 'n1'],
      );
      t.same(
        (await run(store, (tx) => tx.rentals.listByStates(['open', 'returned']))).map((r) => r.id),
        ['n1', 'n2'],
        'by due date',
      );
      await t.rejects(
        run(store, (tx) => tx.rentals.insert(rental('n3', { orderId: 'o-n1' }))),
        'one rental per order',
      );

      const ext = (id: string, o: object = {}) => ({
        id,
        rentalId: 'n2',
        userId: 'u1',
        idempotencyKey: null,
        days: 2,
        amountMinor: 400,
        currency: 'EUR',
        paymentId: null,
        state: 'pending' as const,
        createdAt: T0,
        updatedAt: T0,
        ...o,
      });
      await run(store, async (tx) => {
        await tx.payments.insert(payment('pe'));
        await tx.extensions.insert(ext('e2', { idempotencyKey: 'x', paymentId: 'pe' }));
        await tx.extensions.insert(ext('e1'));
      });
      t.same(await run(store, (tx) => tx.extensions.get('e1')), ext('e1'));
      t.equal((await run(store, (tx) => tx.extensions.findByPayment('pe')))?.id, 'e2');
      t.equal((await run(store, (tx) => tx.extensions.findByIdempotencyKey('u1', 'x')))?.id, 'e2');
      t.same(
        (await run(store, (tx) => tx.extensions.listByRental('n2'))).map((e) => e.id),
        ['e2', 'e1'],
      );
      await run(store, (tx) => tx.extensions.update('e1', { state: 'applied' }));
      t.equal((await run(store, (tx) => tx.extensions.get('e1')))?.state, 'applied');
      await t.rejects(
        run(store, (tx) => tx.extensions.insert(ext('e3', { days: 0 }))),
        'days must be positive',
      );
    });

    t.test('kiosk diagnostics: requested, uploaded once or failed, bytes apart', async (t) => {
      const { store } = await open(t);
      const rec = (id: string, requestedAt: string) => ({
        id,
        kioskId: 'k1',
        kind: 'logs' as const,
        lines: 200,
        level: 'warn',
        state: 'requested' as const,
        commandId: null,
        requestedBy: 'user:u1',
        requestedAt,
        finishedAt: null,
        sizeBytes: null,
        sha256: null,
        failure: null,
      });
      await run(store, async (tx) => {
        await tx.kiosks.insert({ id: 'k1', name: 'One', createdAt: T0 });
        await tx.diagnostics.insert(rec('d1', at(1)));
        await tx.diagnostics.insert(rec('d2', at(2)));
        await tx.diagnostics.setCommand('d1', 'c1');
      });
      const bytes = Buffer.from([0, 1, 2, 255, 0x1f, 0x8b]);
      t.equal(await run(store, (tx) => tx.diagnostics.data('d1')), undefined, 'no bytes yet');
      t.equal(
        await run(store, (tx) =>
          tx.diagnostics.putUpload('d1', { at: at(3), data: bytes, sha256: 'ab'.repeat(32) }),
        ),
        true,
      );
      t.equal(
        await run(store, (tx) =>
          tx.diagnostics.putUpload('d1', {
            at: at(4),
            data: Buffer.from('x'),
            sha256: 'cd'.repeat(32),
          }),
        ),
        false,
        'a second upload is refused',
      );
      t.same(
        await run(store, (tx) => tx.diagnostics.data('d1')),
        bytes,
        'binary bytes kept exactly',
      );
      t.match(await run(store, (tx) => tx.diagnostics.get('d1')), {
        state: 'uploaded',
        commandId: 'c1',
        sizeBytes: 6,
        sha256: 'ab'.repeat(32),
        finishedAt: at(3),
        lines: 200,
      });
      t.equal(await run(store, (tx) => tx.diagnostics.fail('d1', at(5), 'late')), false);
      t.equal(await run(store, (tx) => tx.diagnostics.fail('d2', at(5), 'EUPLOAD: no hub')), true);
      t.match(await run(store, (tx) => tx.diagnostics.get('d2')), {
        state: 'failed',
        failure: 'EUPLOAD: no hub',
      });
      t.same(
        (await run(store, (tx) => tx.diagnostics.listForKiosk('k1', 10))).map((d) => d.id),
        ['d2', 'd1'],
        'newest first',
      );
      t.notOk(
        'data' in ((await run(store, (tx) => tx.diagnostics.get('d1'))) ?? {}),
        'get leaves the bytes out',
      );
    });

    t.test('remote configuration: scopes, versions, what kiosks report', async (t) => {
      const { store } = await open(t);
      await run(store, (tx) => tx.kiosks.insert({ id: 'k1', name: 'One', createdAt: T0 }));
      t.equal(await run(store, (tx) => tx.remoteConfig.nextVersion()), 1, 'empty: version 1');
      const put = (scope: string, version: number, settings: Record<string, unknown>) =>
        run(store, (tx) =>
          tx.remoteConfig.put({
            scope,
            settings,
            version,
            updatedBy: 'user:u1',
            updatedAt: at(version),
          }),
        );
      await put('*', 1, { logLevel: 'warn', 'cloning.prestage': [{ contentId: 'c', count: 2 }] });
      await put('k1', 2, { logLevel: 'debug' });
      await put('*', 3, { 'content.maxBytes': 2 ** 40 });
      t.same(await run(store, (tx) => tx.remoteConfig.get('*')), {
        scope: '*',
        settings: { 'content.maxBytes': 2 ** 40 },
        version: 3,
        updatedBy: 'user:u1',
        updatedAt: at(3),
      });
      t.same(
        (await run(store, (tx) => tx.remoteConfig.list())).map((r) => [r.scope, r.version]),
        [
          ['*', 3],
          ['k1', 2],
        ],
      );
      await t.rejects(put('k2', 3, {}), 'a version is used once');
      t.equal(await run(store, (tx) => tx.remoteConfig.nextVersion()), 4);
      await run(store, (tx) =>
        tx.remoteConfig.reportRejected('k1', {
          version: 3,
          code: 'EINVALID',
          reason: 'content.maxBytes: no',
          errors: [{ key: 'content.maxBytes', message: 'no' }],
          at: at(4),
        }),
      );
      await run(store, (tx) =>
        tx.remoteConfig.reportApplied('k1', { version: 2, restartPending: true, at: at(5) }),
      );
      t.match(await run(store, (tx) => tx.remoteConfig.reported('k1')), {
        appliedVersion: 2,
        restartPending: true,
        rejectedVersion: 3,
        rejectedErrors: [{ key: 'content.maxBytes', message: 'no' }],
        cacheUsedBytes: null,
      });
      await run(store, (tx) =>
        tx.remoteConfig.reportCache('k1', { usedBytes: 9e9, maxBytes: 1e10, at: at(6) }),
      );
      t.equal(
        await run(store, (tx) =>
          tx.remoteConfig.reportApplied('k1', { version: 7, restartPending: false, at: at(7) }),
        ),
        false,
        'a version above the highest issued (3) is not recorded',
      );
      t.equal(
        await run(store, (tx) =>
          tx.remoteConfig.reportApplied('k2', {
            version: 2 ** 53,
            restartPending: false,
            at: at(7),
          }),
        ),
        false,
        'nor a first report of one',
      );
      t.equal(await run(store, (tx) => tx.remoteConfig.reported('k2')), undefined);
      t.equal(
        await run(store, (tx) =>
          tx.remoteConfig.reportApplied('k1', { version: 3, restartPending: false, at: at(7) }),
        ),
        true,
      );
      t.same(
        await run(store, (tx) => tx.remoteConfig.listReported()),
        [
          {
            kioskId: 'k1',
            appliedVersion: 3,
            restartPending: false,
            rejectedVersion: null,
            rejectedCode: null,
            rejectedReason: null,
            rejectedErrors: null,
            cacheUsedBytes: 9e9,
            cacheMaxBytes: 1e10,
            reportedAt: at(7),
            configLacking: null,
          },
        ],
        'a refusal of a version not above it is cleared; the cache use stays',
      );
      await run(store, async (tx) => {
        for (const id of ['k0', 'k3', 'k4'])
          await tx.kiosks.insert({ id, name: id, createdAt: T0 });
        await tx.remoteConfig.reportApplied('k3', { version: 1, restartPending: false, at: at(8) });
        await tx.remoteConfig.reportApplied('k4', { version: 1, restartPending: false, at: at(8) });
        await tx.remoteConfig.reportCache('k4', { usedBytes: 5, maxBytes: 0, at: at(9) });
        await tx.remoteConfig.reportApplied('k0', { version: 1, restartPending: false, at: at(8) });
        await tx.remoteConfig.reportCache('k0', { usedBytes: 0, maxBytes: 2 ** 40, at: at(9) });
      });
      t.same(
        await run(store, (tx) => tx.remoteConfig.listCacheUse()),
        [
          { kioskId: 'k0', cacheUsedBytes: 0, cacheMaxBytes: 2 ** 40, reportedAt: at(9) },
          { kioskId: 'k1', cacheUsedBytes: 9e9, cacheMaxBytes: 1e10, reportedAt: at(7) },
        ],
        'cache use by kiosk id: only kiosks that reported both figures, a non-zero maximum',
      );
      await run(store, (tx) => tx.remoteConfig.setConfigLacking('k1', ['prepare-slot']));
      await run(store, (tx) => tx.remoteConfig.setConfigLacking('k2', ['prepare-slot']));
      t.match(await run(store, (tx) => tx.remoteConfig.reported('k1')), {
        configLacking: ['prepare-slot'],
        appliedVersion: 3,
        reportedAt: at(7),
      });
      t.equal(
        await run(store, (tx) => tx.remoteConfig.reported('k2')),
        undefined,
        'a kiosk that never reported: nothing written',
      );
      await run(store, (tx) => tx.remoteConfig.setConfigLacking('k1', null));
      t.equal((await run(store, (tx) => tx.remoteConfig.reported('k1')))?.configLacking, null);
      t.equal(await run(store, (tx) => tx.remoteConfig.highestIssued()), 3);
      t.equal(
        await run(store, (tx) => tx.remoteConfig.nextVersion()),
        4,
        'from what the hub issued, never from what a kiosk reported',
      );
    });

    t.test('rollouts and their kiosks', async (t) => {
      const { store } = await open(t);
      const rollout = (id: string, o: object = {}) => ({
        id,
        version: '2.0.0',
        bundleSha256: 'ab'.repeat(32),
        bundleSize: 3 * 2 ** 32,
        waves: [1, 3],
        waveSpec: ['1', '100%'],
        maxFailureRate: 0.25,
        installWindowSeconds: 3600,
        currentWave: 0,
        state: 'running' as const,
        reason: null,
        createdBy: 'user:u1',
        createdAt: T0,
        updatedAt: T0,
        ...o,
      });
      const rk = (kioskId: string, position: number) => ({
        rolloutId: 'r1',
        kioskId,
        position,
        wave: position === 0 ? 0 : 1,
        state: 'pending' as const,
        commandId: null,
        attempts: 0,
        fromVersion: null,
        code: null,
        reason: null,
        updatedAt: T0,
      });
      await run(store, async (tx) => {
        for (const k of ['k1', 'k2', 'k3'])
          await tx.kiosks.insert({ id: k, name: k, createdAt: T0 });
        await tx.rollouts.insert(rollout('r1'), [rk('k2', 1), rk('k1', 0), rk('k3', 2)]);
        await tx.rollouts.insert(rollout('r0', { state: 'completed' }), []);
        await tx.rollouts.insert(rollout('r2', { state: 'halted', createdAt: at(1) }), []);
      });
      t.same(
        await run(store, (tx) => tx.rollouts.get('r1')),
        rollout('r1'),
        'round-trips, JSON and sizes included',
      );
      t.same(
        (await run(store, (tx) => tx.rollouts.list(10))).map((r) => r.id),
        ['r2', 'r0', 'r1'],
        'newest first, ties newest-inserted first',
      );
      t.same(
        (await run(store, (tx) => tx.rollouts.listOpen())).map((r) => r.id),
        ['r1', 'r2'],
      );
      await run(store, (tx) =>
        tx.rollouts.update('r1', { state: 'halted', reason: 'too many failures', currentWave: 1 }),
      );
      t.match(await run(store, (tx) => tx.rollouts.get('r1')), {
        state: 'halted',
        reason: 'too many failures',
        currentWave: 1,
      });
      t.same(
        (await run(store, (tx) => tx.rollouts.kiosks('r1'))).map((k) => k.kioskId),
        ['k1', 'k2', 'k3'],
        'by position',
      );
      await run(store, (tx) =>
        tx.rollouts.updateKiosk('r1', 'k2', { state: 'sent', commandId: 'cmd-9', attempts: 1 }),
      );
      await run(store, (tx) => tx.rollouts.updateKiosk('r1', 'k2', {}));
      t.same(await run(store, (tx) => tx.rollouts.kioskByCommand('cmd-9')), {
        ...rk('k2', 1),
        state: 'sent',
        commandId: 'cmd-9',
        attempts: 1,
      });
      await t.rejects(
        run(store, (tx) => tx.rollouts.updateKiosk('r1', 'k3', { commandId: 'cmd-9' })),
        'a command belongs to one kiosk of one rollout',
      );
      await t.rejects(
        run(store, (tx) => tx.rollouts.insert(rollout('r3', { maxFailureRate: 2 }), [])),
        'a failure rate above 1 is refused',
      );
    });

    t.test('rental settings: one row, seeded once, replaced by put', async (t) => {
      const { store } = await open(t);
      const s = (o: object = {}) => ({
        depositMinor: 5000,
        overdueFeePerDayMinor: 300,
        lostDiskChargeMinor: 5000,
        updatedAt: T0,
        updatedBy: 'config',
        ...o,
      });
      t.equal(await run(store, (tx) => tx.rentalSettings.get()), undefined, 'none before a seed');
      await run(store, (tx) => tx.rentalSettings.seed(s()));
      await run(store, (tx) => tx.rentalSettings.seed(s({ depositMinor: 1, updatedAt: at(1) })));
      t.same(
        await run(store, (tx) => tx.rentalSettings.get()),
        s(),
        'a second seed changes nothing',
      );
      const changed = s({
        depositMinor: 8000,
        lostDiskChargeMinor: 0,
        updatedAt: at(2),
        updatedBy: 'user:u1',
      });
      await run(store, (tx) => tx.rentalSettings.put(changed));
      t.same(await store.read((r) => r.rentalSettings.get()), changed);
      await t.rejects(
        run(store, (tx) => tx.rentalSettings.put(s({ depositMinor: 0 }))),
        'a deposit below 1 is refused by the table',
      );
      t.same(await run(store, (tx) => tx.rentalSettings.get()), changed, 'unchanged');
    });

    t.test('missing disks, audit, flags', async (t) => {
      const { store } = await open(t);
      const md = (id: string, eventId: string, o: object = {}) => ({
        id,
        eventId,
        diskId: 'disk-9',
        kioskId: 'k1',
        slot: 3,
        slotState: 'fault',
        reason: 'pulled',
        door: 'open' as const,
        orderId: null,
        flaggedAt: T0,
        clearedAt: null,
        clearedBy: null,
        ...o,
      });
      t.equal(await run(store, (tx) => tx.missingDisks.insertIfNew(md('m1', 'ev1'))), true);
      t.equal(
        await run(store, (tx) => tx.missingDisks.insertIfNew(md('m2', 'ev1'))),
        false,
        'one per event',
      );
      await run(store, (tx) =>
        tx.missingDisks.insertIfNew(md('m3', 'ev3', { diskId: null, door: null })),
      );
      t.same(
        (await run(store, (tx) => tx.missingDisks.listOpen(10))).map((m) => m.id),
        ['m1', 'm3'],
      );
      t.equal(
        await run(store, (tx) => tx.missingDisks.clearDisk('disk-9', at(4), 'returned at k2')),
        1,
      );
      t.same(await run(store, (tx) => tx.missingDisks.listOpen(10)), [
        md('m3', 'ev3', { diskId: null, door: null }),
      ]);

      await run(store, async (tx) => {
        await tx.audit.insert({
          at: T0,
          actor: 'user:u1',
          action: 'kiosk.revoke',
          subject: 'k1',
          kioskId: 'k1',
          ip: '::1',
          details: { why: 'lost', n: [1] },
        });
        await tx.audit.insert({
          at: at(1),
          actor: 'admin-token',
          action: 'x',
          subject: null,
          kioskId: null,
          ip: null,
          details: null,
        });
      });
      const log = await run(store, (tx) => tx.audit.list(10));
      t.same(
        log.map((a) => [a.action, a.details]),
        [
          ['x', null],
          ['kiosk.revoke', { why: 'lost', n: [1] }],
        ],
        'newest first',
      );
      t.equal(typeof log[0]?.id, 'number');

      await run(store, async (tx) => {
        await tx.flags.raise('capture_mismatch', 'p1', 'first', T0);
        await tx.flags.raise('capture_mismatch', 'p1', 'again', at(1));
        await tx.flags.raise('stuck', 'o1', 'stuck', at(2));
      });
      t.same(
        (await run(store, (tx) => tx.flags.listOpen())).map((f) => [
          f.kind,
          f.message,
          f.createdAt,
        ]),
        [
          ['capture_mismatch', 'again', T0],
          ['stuck', 'stuck', at(2)],
        ],
        'raising an open flag again updates its message only',
      );
      await run(store, (tx) => tx.flags.resolve('capture_mismatch', 'p1', at(3)));
      await run(store, (tx) => tx.flags.raise('capture_mismatch', 'p1', 'back', at(4)));
      t.same(
        (await run(store, (tx) => tx.flags.listOpen())).map((f) => [
          f.subject,
          f.message,
          f.createdAt,
          f.resolvedAt,
        ]),
        [
          ['p1', 'back', at(4), null],
          ['o1', 'stuck', at(2), null],
        ],
        'a resolved flag raised again reopens with its new time',
      );
    });
  });
}

t.test('every SQLite migration has its PostgreSQL twin (same version and name)', async (t) => {
  t.same(
    pgMigrations.map((m) => [m.version, m.name]),
    migrations.map((m) => [m.version, m.name]),
  );
});

for (const { kind, open } of kinds) {
  t.test(`${kind}: migrated on open, idempotent; a newer schema is refused`, async (t) => {
    const { store, location } = await open(t);
    t.same((store as unknown as { migrated: object }).migrated, { from: 0, to: migrations.length });
    await store.close();
    const again = await openStoreAt(kind, location);
    t.same((again as unknown as { migrated: object }).migrated, {
      from: migrations.length,
      to: migrations.length,
    });
    await again.close();
    // A cloud-lite one version newer has been here.
    if (kind === 'sqlite') {
      const db = new Database(location);
      db.pragma(`user_version = ${migrations.length + 1}`);
      db.close();
    } else {
      const c = new pg.Client({ connectionString: location });
      await c.connect();
      await c.query(
        "INSERT INTO cloud_lite_schema (version, name) VALUES ($1, 'from-the-future')",
        [migrations.length + 1],
      );
      await c.end();
    }
    await t.rejects(openStoreAt(kind, location), {
      code: 'ESTOREVERSION',
      message: new RegExp(`version ${migrations.length + 1} is newer than this program knows`),
    });
  });
}

t.test('postgres: an unreachable server is refused in one line naming it', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'no-pg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // No server listens on a socket in an empty directory.
  const url = `postgresql://hub:topsecret@localhost:5439/hubdb?host=${encodeURIComponent(dir)}`;
  const err = await PostgresStore.open(url).then(
    () => undefined,
    (e: Error & { code?: string }) => e,
  );
  t.equal(err?.code, 'ESTOREUNREACHABLE');
  t.match(err?.message, `cannot reach PostgreSQL at ${dir}:5439/hubdb`);
  t.notMatch(err?.message, /topsecret/, 'never the password');
  t.notMatch(err?.message, /\n/, 'one line');
});

t.test('postgres: a server older than 15 is refused', async (t) => {
  t.throws(() => checkServerVersion(140011, 'db:5432/hub'), {
    code: 'ESTORETOOOLD',
    message: 'PostgreSQL at db:5432/hub is version 14; cloud-lite needs 15 or newer',
  });
  t.doesNotThrow(() => checkServerVersion(150004, 'db:5432/hub'));
  t.doesNotThrow(() => checkServerVersion(170000, 'db:5432/hub'));
});
