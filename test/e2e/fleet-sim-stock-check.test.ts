// The fleet simulation's ready-stock invariant against a hand-made event stream and a real
// kiosk database: a ready disk reformatted with no recorded cause, for a reservation the
// operator's setting did not allow, without a PrepareDisk allowing it, or leaving fewer ready
// disks of its content than the setting keeps, is reported; an allowed one and an operator's
// WipeDisk are not.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ensureIdentity, openDb } from '../../kiosk/db/open-db.js';
import { checkReadyStock, type StockPolicy } from '../../scripts/fleet-sim/stock-check.js';

const NOW = '2026-01-01T00:00:00.000Z';

const changed = (seq: number, slot: number, from: string, to: string, snap: object) => ({
  seq,
  type: 'SlotStateChanged',
  data: JSON.stringify({ slot, from, to, snapshot: { slot, state: to, ...snap } }),
});

/** Slots 1 and 2 ready with films, then slot 1's disk reformatted (snapshot version 3). */
const EVENTS = [
  changed(1, 1, 'empty', 'loaded', { version: 1 }),
  changed(2, 1, 'loaded', 'ready', { contentId: 'films', contentVersion: '1', version: 2 }),
  changed(3, 2, 'empty', 'loaded', { version: 1 }),
  changed(4, 2, 'loaded', 'ready', { contentId: 'films', contentVersion: '1', version: 2 }),
  changed(5, 1, 'ready', 'preparing', { version: 3 }),
];

async function kioskDb(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stock-check-'));
  const db = openDb({ file: path.join(dir, 'kioskd.sqlite') });
  ensureIdentity(db, 'kiosk-1');
  t.teardown(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  return db;
}

function reformatRow(
  db: Awaited<ReturnType<typeof kioskDb>>,
  cause: string,
  commandId: string | null,
) {
  db.prepare(
    `INSERT INTO ready_reformats (at, slot, slot_version, disk_id, from_content_id, from_content_version,
       to_content_id, to_content_version, cause, command_id, reservation_id, keep_ready, ready_left)
     VALUES (?, 1, 3, 'disk-1', 'films', '1', 'course', '1', ?, ?, 'rsv-1', 1, 1)`,
  ).run(NOW, cause, commandId);
}

const prepare = (payload: object) => ({
  id: 'cmd-1',
  action: 'PrepareDisk',
  payload: JSON.stringify({ reservationId: 'rsv-1', ...payload }),
});

function run(
  db: Awaited<ReturnType<typeof kioskDb>>,
  policy: StockPolicy,
  commands: Record<string, unknown>[],
) {
  const found: { invariant: string; message: string }[] = [];
  const r = checkReadyStock({ kioskId: 'kiosk-1', db, events: EVENTS, commands, policy }, (i, m) =>
    found.push({ invariant: i, message: m }),
  );
  return { found, ...r };
}

const ON = { reservationsMayReformatReady: true, keepReadyPerType: 1 };
const OFF = { reservationsMayReformatReady: false, keepReadyPerType: 1 };

t.test('a reformat with no recorded cause', async (t) => {
  const db = await kioskDb(t);
  const r = run(db, ON, []);
  t.equal(r.reformats, 1);
  t.match(r.found, [{ invariant: 'ready-stock-kept', message: /no recorded cause/ }]);
});

t.test('a reservation reformat the setting did not allow', async (t) => {
  const db = await kioskDb(t);
  reformatRow(db, 'reservation', 'cmd-1');
  const r = run(db, OFF, [prepare({ slot: 1, reformatReady: { keepReady: 1 } })]);
  t.match(r.found, [{ message: /did not allow it/ }]);
});

t.test('an allowed reservation reformat keeping enough ready passes', async (t) => {
  const db = await kioskDb(t);
  reformatRow(db, 'reservation', 'cmd-1');
  const r = run(db, ON, [prepare({ slot: 1, reformatReady: { keepReady: 1 } })]);
  t.same(r.found, []);
  t.equal(r.reservationReformats, 1);
});

t.test('a reformat without the PrepareDisk allowance, or below the kept stock', async (t) => {
  const db = await kioskDb(t);
  reformatRow(db, 'reservation', 'cmd-1');
  t.match(run(db, ON, [prepare({ slot: 1 })]).found, [
    { message: /without a PrepareDisk allowing it/ },
  ]);
  t.match(run(db, ON, [prepare({ slot: 2, reformatReady: { keepReady: 1 } })]).found, [
    { message: /without a PrepareDisk allowing it/ },
  ]);
  const keep2 = run(db, { ...ON, keepReadyPerType: 2 }, [
    prepare({ slot: 1, reformatReady: { keepReady: 2 } }),
  ]);
  t.match(keep2.found, [{ message: /leaving 1 ready \(keep 2\)/ }]);
});

t.test("an operator's WipeDisk is a cause; a wipe the hub never sent is not", async (t) => {
  const db = await kioskDb(t);
  reformatRow(db, 'wipe', 'cmd-w');
  t.same(run(db, OFF, [{ id: 'cmd-w', action: 'WipeDisk', payload: '{"slot":1}' }]).found, []);
  t.match(run(db, OFF, []).found, [{ message: /without a WipeDisk/ }]);
});
