// The alerts sweep reads the fleet with a fixed number of SQLite statements: a fleet of 40
// kiosks costs the same statement runs as one of 2 (counted at better-sqlite3's Statement, so
// every query of every repository counts), while the findings grow with the fleet. The
// sweep used to read each booted kiosk's slots and newest 500 events: two statements per
// kiosk every 15 s.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import t from 'tap';
import { AlertService } from '../../../cloud-lite/alerts/alert-service.js';
import { sweepFindings } from '../../../cloud-lite/alerts/rules.js';
import { validateConfig } from '../../../cloud-lite/config.js';
import type { KioskCommands } from '../../../cloud-lite/hub/kiosk-commands.js';
import { Catalog } from '../../../cloud-lite/rental/catalog/catalog.js';
import { STOCK_PAGE } from '../../../cloud-lite/rental/catalog/preparable.js';
import { SqliteStore } from '../../../cloud-lite/store/sqlite/sqlite-store.js';

// Every run of a prepared statement, whichever repository prepared it, and the fields (columns
// of rows) they returned.
let runs = 0;
let fields = 0;
const countFields = (row: unknown) => {
  if (row && typeof row === 'object') fields += Object.keys(row).length;
};
{
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<
    'run' | 'get' | 'all' | 'iterate',
    (...args: unknown[]) => unknown
  >;
  for (const m of ['run', 'get', 'all', 'iterate'] as const) {
    const orig = proto[m]!;
    proto[m] = function (this: unknown, ...args: unknown[]) {
      runs++;
      const out = orig.apply(this, args);
      if (m === 'all') for (const row of out as unknown[]) countFields(row);
      else if (m === 'get') countFields(out);
      return out;
    };
  }
  probe.close();
}

const config = validateConfig({
  host: '127.0.0.1',
  port: 0,
  databasePath: 'unused.db',
  signingKeyPath: 'unused.pem',
  adminToken: 'sweep-cost-admin-token-0123456789',
});
const now = new Date();
const iso = (msAgo: number) => new Date(now.getTime() - msAgo).toISOString();
// Every kiosk connected and serving: the zero-stock rule looks at all of them.
const kiosks = { silentForMs: () => 0, canServe: () => true } as unknown as KioskCommands;

/** A store with `n` booted kiosks; `faulty`: each has a slot in fault and 3 failed preparations. */
async function fleet(t: Tap, n: number, faulty: boolean) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'alert-sweep-cost-'));
  const store = SqliteStore.open(path.join(dir, 'hub.db'));
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  await store.transaction(async (tx) => {
    await tx.content.insert({
      id: 'movies',
      title: 'Movies',
      version: '1',
      sizeBytes: 1000,
      description: '',
    });
    await tx.diskTypes.insert({
      id: 'movies-1tb',
      capacityBytes: 1000,
      contentId: 'movies',
      writeProtect: 'forced',
      pricePerDayMinor: 500,
      currency: 'EUR',
      defaultDays: 1,
      maxDays: 7,
      kioskIds: null,
    });
    for (let i = 0; i < n; i++) {
      const id = `k${i}`;
      await tx.kiosks.insert({ id, name: id, createdAt: iso(60_000) });
      await tx.kiosks.recordBoot(id, {
        at: iso(30_000),
        softwareVersion: 'test',
        imageVersion: null,
        slotCount: 4,
        bootReason: 'PowerOn',
      });
      await tx.slots.replaceAll(
        id,
        [1, 2, 3, 4].map((slot) => ({
          kioskId: id,
          slot,
          state: faulty && slot === 4 ? 'fault' : 'ready',
          snapshot: {
            slot,
            diskId: `${id}-d${slot}`,
            contentId: 'movies',
            contentVersion: '1',
            capacityBytes: 1000,
            ...(faulty && slot === 4 ? { fault: { code: 'EJAM', message: 'jammed' } } : {}),
          },
          updatedAt: iso(20_000),
        })),
      );
      await tx.remoteConfig.reportCache(id, { usedBytes: 10, maxBytes: 100, at: iso(20_000) });
      if (!faulty) continue;
      for (let seq = 1; seq <= 3; seq++)
        await tx.events.insertIfNew({
          eventId: `${id}-e${seq}`,
          kioskId: id,
          seq,
          type: 'PrepareFailed',
          at: iso(10_000),
          data: { code: 'EVERIFY', reservationId: `r-${id}-${seq}` },
          receivedAt: iso(10_000),
        });
      await tx.kiosks.setLastSeq(id, 3);
    }
  });
  const catalog = new Catalog({ store, kiosks, config: config.rental, now: () => now });
  const alerts = new AlertService({
    store,
    config: config.alerts,
    logger: pino({ level: 'silent' }),
    kiosks,
    catalog,
    mailer: { configured: false, send: async () => ({ messageId: null }), close() {} },
    now: () => now,
  });
  return { store, catalog, alerts };
}

interface Tap {
  teardown(fn: () => unknown): void;
}

t.test('reading the facts: the same statements for 2 kiosks as for 40', async (t) => {
  const cost = async (n: number) => {
    const { store, catalog } = await fleet(t, n, true);
    const before = runs;
    const fieldsBefore = fields;
    const findings = await store.transaction((tx) =>
      sweepFindings(tx, { config: config.alerts, kiosks, catalog, now }),
    );
    return { statements: runs - before, fields: fields - fieldsBefore, findings };
  };
  const small = await cost(2);
  const large = await cost(40);
  const count = (f: typeof small.findings, kind: string) => f.filter((x) => x.kind === kind).length;
  t.equal(count(small.findings, 'slot_fault'), 2, 'a slot fault per kiosk (2)');
  t.equal(count(large.findings, 'slot_fault'), 40, 'a slot fault per kiosk (40)');
  t.equal(count(large.findings, 'prepare_failures'), 40, '3 failed preparations per kiosk');
  t.same(
    large.findings.find((f) => f.key === 'k7' && f.kind === 'prepare_failures')?.details,
    {
      failures: [1, 2, 3].map((seq) => ({
        at: iso(10_000),
        code: 'EVERIFY',
        reservationId: `r-k7-${seq}`,
      })),
    },
    "a kiosk's own failures, in seq order",
  );
  t.equal(count(large.findings, 'zero_stock'), 0, 'ready disks of the type: no zero stock');
  t.equal(large.statements, small.statements, 'statements do not grow with the fleet');
  t.ok(small.statements < 15, `a few statements per sweep (${small.statements})`);
  // Each kiosk more reads its row, reported cache use, 4 slots (1 in fault, 3 ready) and 3
  // failure events; of its row and report only the fields the rules use: 5 (id, name, status,
  // last seen, holder) and 4 (id, cache used and maximum, when), not its whole record (18
  // columns) and reported configuration (11): 70 fields per kiosk were read then.
  const perKiosk = (large.fields - small.fields) / 38;
  t.ok(perKiosk <= 50, `fields read per kiosk: ${perKiosk}`);
});

t.test(
  'a whole sweep of a healthy fleet: the same statements for 2 kiosks as for 40',
  async (t) => {
    const cost = async (n: number) => {
      const { store, alerts } = await fleet(t, n, false);
      const before = runs;
      await alerts.sweep();
      const statements = runs - before;
      const live = await store.read((r) => r.alerts.listLive());
      return { statements, live };
    };
    const small = await cost(2);
    const large = await cost(40);
    t.same(large.live, [], 'no alert in a healthy fleet');
    t.equal(large.statements, small.statements, 'statements do not grow with the fleet');
  },
);

t.test('a disk type in stock costs one page of ready slots, whatever the fleet', async (t) => {
  // The zero-stock check used to read every ready slot of the fleet (whole snapshots) each
  // sweep; it reads the type's ready slots a page at a time and stops at the first that sells.
  const cost = async (n: number) => {
    const { store, catalog } = await fleet(t, n, false);
    return store.transaction(async (tx) => {
      const type = (await tx.diskTypes.list())[0]!;
      const ids = new Set(Array.from({ length: n }, (_, i) => `k${i}`));
      const before = { runs, fields };
      const stock = await catalog.fleetStock(tx);
      const sells = await catalog.sellsAnywhere(tx, type, ids, stock);
      return { sells, statements: runs - before.runs, fields: fields - before.fields };
    });
  };
  // 4 ready disks a kiosk: 120 and 360 ready slots, both more than a page.
  const small = await cost(30);
  const large = await cost(90);
  t.ok(small.sells && large.sells, 'in stock');
  t.equal(large.statements, small.statements, 'statements do not grow with the fleet');
  t.equal(large.fields, small.fields, 'fields read do not grow with the fleet');
  t.ok(
    small.fields <= STOCK_PAGE * 6 + 20,
    `the claims, a page of 6 fields a slot, its content and a rental look-up (${small.fields})`,
  );
});
