// The fleet simulation's money-and-limits invariants (scripts/fleet-sim/money-check.ts) on a
// small hand-made hub database (the real migrations): a consistent state passes; a rental
// beyond maxDays, an extension charged twice, left pending or charged without being applied,
// and a kiosk killed mid-dispense whose order was never shown `kiosk_unreachable` in time
// are each reported with the id to investigate.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { SqliteStore } from '../../cloud-lite/store/sqlite/sqlite-store.js';
import type { FaultLogEntry } from '../../scripts/fleet-sim/faults.js';
import { checkMoneyRules } from '../../scripts/fleet-sim/money-check.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const DAY = 24 * 3600 * 1000;

async function hubDb(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-money-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'hub.db');
  await SqliteStore.open(file).close();
  const db = new Database(file);
  t.teardown(() => db.close());
  const run = (sql: string, ...p: unknown[]) => db.prepare(sql).run(...p);
  run(
    `INSERT INTO users (id, email, role, password_hash, created_at) VALUES ('u1', 'u@x', 'renter', 'x', ?)`,
    iso(0),
  );
  run(
    `INSERT INTO content_packages (id, title, version, size_bytes) VALUES ('c1', 'Films', 'v1', 1)`,
  );
  run(
    `INSERT INTO disk_types (id, capacity_bytes, content_id, write_protect, price_per_day_minor, currency, default_days, max_days) VALUES ('films', 1, 'c1', 'allowed', 200, 'EUR', 1, 14)`,
  );
  run(
    `INSERT INTO orders (id, user_id, kiosk_id, disk_type_id, days, write_protect, amount_minor, currency, state, steps, created_at, updated_at) VALUES ('o1', 'u1', 'kiosk-1', 'films', 1, 0, 200, 'EUR', 'completed', ?, ?, ?)`,
    JSON.stringify([
      { at: iso(0), state: 'created', message: '' },
      { at: iso(1000), state: 'dispensing', message: '' },
      { at: iso(6000), state: 'kiosk_unreachable', message: '', until: iso(606_000) },
      { at: iso(20_000), state: 'completed', message: '' },
    ]),
    iso(0),
    iso(20_000),
  );
  run(
    `INSERT INTO rentals (id, user_id, order_id, disk_id, disk_type_id, kiosk_id, started_at, due_at, state) VALUES ('r1', 'u1', 'o1', 'd1', 'films', 'kiosk-1', ?, ?, 'open')`,
    iso(0),
    iso(3 * DAY),
  );
  // One extension of 2 days, paid by card: captured once, one charge.
  run(
    `INSERT INTO payments (id, user_id, provider, provider_ref, kind, purpose, ref_id, amount_minor, captured_minor, currency, state, created_at, updated_at) VALUES ('p1', 'u1', 'sandbox', 'sb1', 'auth', 'extension', 'r1', 400, 400, 'EUR', 'captured', ?, ?)`,
    iso(0),
    iso(0),
  );
  run(
    `INSERT INTO sandbox_ledger (payment_id, op, amount_minor, at) VALUES ('sb1', 'authorise', 400, ?), ('sb1', 'capture', 400, ?)`,
    iso(0),
    iso(0),
  );
  run(
    `INSERT INTO rental_extensions (id, rental_id, user_id, days, amount_minor, currency, payment_id, state, created_at, updated_at) VALUES ('x1', 'r1', 'u1', 2, 400, 'EUR', 'p1', 'applied', ?, ?)`,
    iso(0),
    iso(0),
  );
  run(
    `INSERT INTO charges (id, user_id, rental_id, kind, amount_minor, currency, payment_id, at) VALUES ('ch1', 'u1', 'r1', 'extension', 400, 'EUR', 'p1', ?)`,
    iso(0),
  );
  return { db, run };
}

const kill = (extra: Partial<FaultLogEntry> = {}): FaultLogEntry => ({
  at: T0 + 1500,
  kind: 'kioskd_dies_mid_dispense',
  target: 'kiosk-1',
  detail: '',
  orderId: 'o1',
  downMs: 12_000,
  ...extra,
});

function run(db: Database.Database, faults: FaultLogEntry[] = [kill()]) {
  const v: Array<{ invariant: string; message: string; ids: Record<string, string | number> }> = [];
  const stats = checkMoneyRules({ hub: db, faults }, (invariant, message, ids = {}) =>
    v.push({ invariant, message, ids }),
  );
  return { v, stats };
}

t.test('a consistent state has no violation', async (t) => {
  const { db } = await hubDb(t);
  const { v, stats } = run(db);
  t.same(v, []);
  t.match(stats, {
    extensionsApplied: 1,
    longestRentalDays: 3,
    kioskdKilledMidDispense: 1,
    killedOrdersToldKioskUnreachable: 1,
  });
});

t.test('a rental longer than its type allows', async (t) => {
  const { db, run: sql } = await hubDb(t);
  sql(`UPDATE rentals SET due_at = ? WHERE id = 'r1'`, iso(733 * DAY));
  const { v } = run(db);
  t.same(
    v.map((x) => [x.invariant, x.ids.rentalId]),
    [['rental-max-days', 'r1']],
  );
});

t.test('extensions: captured twice, left pending, charged without being applied', async (t) => {
  const { db, run: sql } = await hubDb(t);
  sql(
    `INSERT INTO sandbox_ledger (payment_id, op, amount_minor, at) VALUES ('sb1', 'capture', 400, ?)`,
    iso(1),
  );
  sql(
    `INSERT INTO rental_extensions (id, rental_id, user_id, days, amount_minor, currency, state, created_at, updated_at) VALUES ('x2', 'r1', 'u1', 1, 200, 'EUR', 'pending', ?, ?)`,
    iso(1),
    iso(1),
  );
  sql(
    `INSERT INTO charges (id, user_id, rental_id, kind, amount_minor, currency, at) VALUES ('ch2', 'u1', 'r1', 'extension', 200, 'EUR', ?)`,
    iso(2),
  );
  const { v } = run(db);
  t.same(
    v.map((x) => x.invariant),
    ['extension-charged-once', 'extension-charged-once', 'extension-charged-once'],
  );
  t.same(
    v.map((x) => x.ids.extensionId ?? x.ids.rentalId),
    ['x1', 'x2', 'r1'],
  );
});

t.test('a kiosk killed mid-dispense: the order must show kiosk_unreachable in time', async (t) => {
  const { db, run: sql } = await hubDb(t);
  const steps = (unreachableAt: number | null, endAt = 20_000) =>
    JSON.stringify([
      { at: iso(0), state: 'created', message: '' },
      ...(unreachableAt === null
        ? []
        : [{ at: iso(unreachableAt), state: 'kiosk_unreachable', message: '' }]),
      { at: iso(endAt), state: 'completed', message: '' },
    ]);
  sql(`UPDATE orders SET steps = ? WHERE id = 'o1'`, steps(null));
  t.same(
    run(db).v.map((x) => [x.invariant, x.ids.orderId]),
    [['unreachable-told', 'o1']],
    'never shown',
  );
  sql(`UPDATE orders SET steps = ? WHERE id = 'o1'`, steps(14_000));
  t.match(run(db).v[0]?.message, /shown kiosk_unreachable 12500 ms after/, 'shown too late');
  t.same(run(db, [kill({ downMs: 4000 })]).v, [], 'down too briefly to require it');
  sql(`UPDATE orders SET steps = ? WHERE id = 'o1'`, steps(null, 3000));
  t.same(run(db).v, [], 'the order ended before the kiosk was missed');
  sql(`UPDATE orders SET steps = ? WHERE id = 'o1'`, steps(null));
  t.same(
    run(db, [kill(), { at: T0 + 5000, kind: 'hub_restart', target: 'cloud-lite', detail: '' }]).v,
    [],
    'the hub itself was down',
  );
});
