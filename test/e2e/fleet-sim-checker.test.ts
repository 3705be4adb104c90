// The fleet simulation's checker against small hand-made databases (the real hub and
// kiosk migrations): a consistent state passes, and each kind of damage -- a second
// capture, an event gap, a disk in two places, an unvoided failure, an eject without a
// Dispense, a command the hub never sent -- is reported with the id to investigate.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { SqliteStore } from '../../cloud-lite/store/sqlite/sqlite-store.js';
import { MotorBoardSim } from '../../hal/motor-board/sim.js';
import { ensureIdentity, openDb } from '../../kiosk/db/open-db.js';
import type { Hands } from '../../scripts/fleet-sim/bots.js';
import { type CheckInput, check } from '../../scripts/fleet-sim/checker.js';

const NOW = '2026-01-01T00:00:00.000Z';

async function world(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-checker-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const hubDb = path.join(dir, 'hub.db');
  await SqliteStore.open(hubDb).close();
  const kioskDb = path.join(dir, 'kiosk.db');
  const k = openDb({ file: kioskDb });
  ensureIdentity(k, 'kiosk-1');
  k.close();
  const hub = new Database(hubDb);
  const kdb = new Database(kioskDb);
  t.teardown(() => {
    hub.close();
    kdb.close();
  });
  hub
    .prepare(
      `INSERT INTO kiosks (id, name, created_at, status, last_seq) VALUES ('kiosk-1', 'k1', ?, 'online', 1)`,
    )
    .run(NOW);
  hub
    .prepare(
      `INSERT INTO users (id, email, role, password_hash, created_at) VALUES ('u1', 'u@x', 'renter', 'x', ?)`,
    )
    .run(NOW);
  // One completed rent: disk K1-S1 left slot 1, the renter holds it; captured once.
  hub
    .prepare(`INSERT INTO orders (id, user_id, kiosk_id, disk_type_id, days, write_protect, amount_minor, currency, state, slot, disk_id, rental_id, steps, created_at, updated_at)
    VALUES ('o1', 'u1', 'kiosk-1', 'films', 1, 0, 200, 'EUR', 'completed', 1, 'disk-K1-S1', 'r1', '[]', ?, ?)`)
    .run(NOW, NOW);
  hub
    .prepare(`INSERT INTO payments (id, user_id, provider, provider_ref, kind, purpose, ref_id, amount_minor, captured_minor, currency, state, created_at, updated_at)
    VALUES ('p1', 'u1', 'sandbox', 'sb1', 'auth', 'order', 'o1', 200, 200, 'EUR', 'captured', ?, ?)`)
    .run(NOW, NOW);
  hub
    .prepare(
      `INSERT INTO sandbox_ledger (payment_id, op, amount_minor, at) VALUES ('sb1', 'authorise', 200, ?), ('sb1', 'capture', 200, ?)`,
    )
    .run(NOW, NOW);
  hub
    .prepare(
      `INSERT INTO rentals (id, user_id, order_id, disk_id, disk_type_id, kiosk_id, started_at, due_at, state) VALUES ('r1', 'u1', 'o1', 'disk-K1-S1', 'films', 'kiosk-1', ?, ?, 'open')`,
    )
    .run(NOW, NOW);
  hub
    .prepare(
      `INSERT INTO commands (id, kiosk_id, action, payload, state, created_at, updated_at, deadline) VALUES ('c1', 'kiosk-1', 'Dispense', '{"slot":1,"orderId":"o1"}', 'completed', ?, ?, ?)`,
    )
    .run(NOW, NOW, NOW);
  hub
    .prepare(
      `INSERT INTO events (event_id, kiosk_id, seq, type, at, data, received_at) VALUES ('e1', 'kiosk-1', 1, 'DispenseCompleted', ?, '{"orderId":"o1","outcome":"taken","slot":1,"diskId":"disk-K1-S1"}', ?)`,
    )
    .run(NOW, NOW);
  kdb.prepare(`INSERT INTO slots (slot, state, updated_at) VALUES (1, 'empty', ?)`).run(NOW);
  kdb
    .prepare(
      `INSERT INTO inbox (command_id, action, payload, state, received_at) VALUES ('c1', 'Dispense', '{"slot":1,"orderId":"o1"}', 'done', ?)`,
    )
    .run(NOW);
  kdb.prepare(`UPDATE counters SET value = 1 WHERE name = 'outbox_seq'`).run();
  const sim = new MotorBoardSim({ slots: 1, loaded: [] });
  sim.record.push({ slot: 1, kind: 'eject', seq: 1, startedAt: 0, endedAt: 1, result: 'ok' });
  const hands: Hands = {
    held: new Map([['K1-S1', { bot: 1, kioskId: 'kiosk-1', slot: 1, orderId: 'o1', at: 0 }]]),
    log: [
      { at: 0, bot: 1, what: 'take', kioskId: 'kiosk-1', slot: 1, disk: 'K1-S1', orderId: 'o1' },
    ],
  };
  const input: CheckInput = {
    hubDb,
    kiosks: [{ id: 'kiosk-1', dbPath: kioskDb, sim, slots: 1, diskAt: new Map([[1, 'K1-S1']]) }],
    hands,
    diskNames: ['K1-S1'],
    noShowFeeMinor: 300,
  };
  return { hub, kdb, sim, hands, input, run: () => check(input).violations };
}

const kinds = (v: Array<{ invariant: string }>) => v.map((x) => x.invariant);

t.test('a consistent state has no violation', async (t) => {
  const w = await world(t);
  t.same(w.run(), []);
});

t.test('a second capture of one order', async (t) => {
  const w = await world(t);
  w.hub
    .prepare(
      `INSERT INTO sandbox_ledger (payment_id, op, amount_minor, at) VALUES ('sb1', 'capture', 200, ?)`,
    )
    .run(NOW);
  const v = w.run();
  t.ok(kinds(v).includes('one-capture'), JSON.stringify(v));
  t.equal(v.find((x) => x.invariant === 'one-capture')?.ids.orderId, 'o1');
});

t.test('an event seq missing at the hub', async (t) => {
  const w = await world(t);
  w.hub
    .prepare(
      `INSERT INTO events (event_id, kiosk_id, seq, type, at, data, received_at) VALUES ('e3', 'kiosk-1', 3, 'Heartbeat', ?, '{}', ?)`,
    )
    .run(NOW, NOW);
  const v = w.run();
  t.ok(
    v.some((x) => x.invariant === 'events-gap-free' && x.ids.seq === 2),
    JSON.stringify(v),
  );
});

t.test('a disk in a slot and in a renter hand at once', async (t) => {
  const w = await world(t);
  w.sim.insertDisk(1);
  w.kdb
    .prepare(
      `INSERT INTO disks (disk_id, usb_serial, updated_at) VALUES ('disk-K1-S1', 'K1-S1', ?)`,
    )
    .run(NOW);
  w.kdb.prepare(`UPDATE slots SET state = 'returned', disk_id = 'disk-K1-S1' WHERE slot = 1`).run();
  const v = w.run();
  t.ok(
    v.some((x) => x.invariant === 'disk-one-place' && x.ids.diskId === 'disk-K1-S1'),
    JSON.stringify(v),
  );
});

t.test('a failed order whose payment stays authorised', async (t) => {
  const w = await world(t);
  w.hub
    .prepare(`INSERT INTO orders (id, user_id, kiosk_id, disk_type_id, days, write_protect, amount_minor, currency, state, steps, created_at, updated_at)
    VALUES ('o2', 'u1', 'kiosk-1', 'films', 1, 0, 200, 'EUR', 'failed', '[]', ?, ?)`)
    .run(NOW, NOW);
  w.hub
    .prepare(`INSERT INTO payments (id, user_id, provider, provider_ref, kind, purpose, ref_id, amount_minor, currency, state, created_at, updated_at)
    VALUES ('p2', 'u1', 'sandbox', 'sb2', 'auth', 'order', 'o2', 200, 'EUR', 'authorised', ?, ?)`)
    .run(NOW, NOW);
  const v = w.run();
  t.ok(
    v.some((x) => x.invariant === 'failure-voided' && x.ids.orderId === 'o2'),
    JSON.stringify(v),
  );
});

t.test('the motor pushed a slot out twice for one Dispense', async (t) => {
  const w = await world(t);
  w.sim.record.push({ slot: 1, kind: 'eject', seq: 2, startedAt: 2, endedAt: 3, result: 'ok' });
  const v = w.run();
  t.ok(
    v.some((x) => x.invariant === 'eject-once' && x.ids.slot === 1),
    JSON.stringify(v),
  );
});

t.test(
  'a Dispense pruned from the inbox (stamped by a clock years back) still counts by its DispenseCompleted',
  async (t) => {
    // Seed 31: kioskd restarted with its clock 3 years back settled an interrupted Dispense
    // (one push, not_taken) before Boot resynced the clock; its inbox row, stamped finished
    // years ago, was pruned at the next command. Its eject was legitimate.
    const w = await world(t);
    w.hub
      .prepare(
        `INSERT INTO commands (id, kiosk_id, action, payload, state, created_at, updated_at, deadline) VALUES ('c2', 'kiosk-1', 'Dispense', '{"slot":1,"orderId":"o2"}', 'failed', ?, ?, ?)`,
      )
      .run(NOW, NOW, NOW);
    w.hub
      .prepare(
        `INSERT INTO events (event_id, kiosk_id, seq, type, at, data, received_at) VALUES ('e2', 'kiosk-1', 2, 'DispenseCompleted', '2023-01-02T00:00:00.000Z', '{"commandId":"c2","orderId":"o2","outcome":"not_taken","slot":1,"diskId":"disk-K1-S1"}', ?)`,
      )
      .run(NOW);
    w.hub.prepare(`UPDATE kiosks SET last_seq = 2 WHERE id = 'kiosk-1'`).run();
    w.kdb.prepare(`UPDATE counters SET value = 2 WHERE name = 'outbox_seq'`).run();
    w.sim.record.push({ slot: 1, kind: 'eject', seq: 2, startedAt: 2, endedAt: 3, result: 'ok' });
    const ejectOnce = () => w.run().filter((x) => x.invariant === 'eject-once');
    t.same(ejectOnce(), [], 'two pushes for two Dispense commands, one known only by its event');
    // A third push is one too many, wherever the commands are read from.
    w.sim.record.push({ slot: 1, kind: 'eject', seq: 3, startedAt: 4, endedAt: 5, result: 'ok' });
    t.match(ejectOnce(), [{ message: 'slot 1 ejected 3 times for 2 Dispense commands' }]);
    // An event naming a command the hub never sent for that slot does not count.
    w.hub
      .prepare(`UPDATE commands SET payload = '{"slot":2,"orderId":"o2"}' WHERE id = 'c2'`)
      .run();
    w.sim.record.pop();
    t.match(ejectOnce(), [{ message: 'slot 1 ejected 2 times for 1 Dispense commands' }]);
  },
);

t.test('a command the kiosk executed that the hub never sent', async (t) => {
  const w = await world(t);
  w.kdb
    .prepare(
      `INSERT INTO inbox (command_id, action, payload, state, received_at) VALUES ('c9', 'Dispense', '{"slot":1}', 'done', ?)`,
    )
    .run(NOW);
  const v = w.run();
  t.ok(
    v.some((x) => x.invariant === 'commands-known' && x.ids.commandId === 'c9'),
    JSON.stringify(v),
  );
});

t.test(
  'a disk taken without a completed order: flagged missing at that kiosk, or a violation',
  async (t) => {
    const w = await world(t);
    // The order failed (jammed, hold expired); the renter pulled the disk out of the fault slot.
    w.hub.prepare(`UPDATE orders SET state = 'failed', rental_id = NULL WHERE id = 'o1'`).run();
    w.hub.prepare(`UPDATE payments SET state = 'voided', captured_minor = 0 WHERE id = 'p1'`).run();
    w.hub.prepare(`DELETE FROM sandbox_ledger WHERE op = 'capture'`).run();
    w.hub.prepare(`DELETE FROM rentals`).run();
    w.hub.prepare(`DELETE FROM events`).run();
    w.hub.prepare(`UPDATE kiosks SET last_seq = 0`).run();
    w.kdb.prepare(`UPDATE counters SET value = 0 WHERE name = 'outbox_seq'`).run();
    w.kdb
      .prepare(`UPDATE slots SET state = 'fault', fault_code = 'EJAM', fault_message = 'jam'`)
      .run();
    const before = w.run();
    t.ok(
      before.some((x) => x.invariant === 'take-billed' && x.ids.orderId === 'o1'),
      JSON.stringify(before),
    );
    t.ok(
      before.some((x) => x.invariant === 'disk-one-renter' && x.ids.diskId === 'disk-K1-S1'),
      JSON.stringify(before),
    );
    w.hub
      .prepare(`INSERT INTO missing_disks (id, event_id, disk_id, kiosk_id, slot, slot_state, reason, order_id, flagged_at)
    VALUES ('m1', 'e9', 'disk-K1-S1', 'kiosk-1', 1, 'fault', 'pulled', 'o1', ?)`)
      .run(NOW);
    t.same(w.run(), [], 'flagged missing at the kiosk it left');
    w.hub.prepare(`UPDATE missing_disks SET kiosk_id = 'kiosk-2'`).run();
    t.ok(
      w.run().some((x) => x.invariant === 'take-billed'),
      'a flag at another kiosk does not count',
    );
  },
);

t.test('a completed order whose stuck disk was pulled during its jam hold', async (t) => {
  const w = await world(t);
  // The push jammed with the disk half out; the renter pulled it: DispenseCompleted jammed,
  // then the kiosk's DiskRemoved for that slot and disk; the hub held, then captured.
  w.hub
    .prepare(
      `UPDATE events SET data = '{"orderId":"o1","outcome":"jammed","slot":1,"diskId":"disk-K1-S1"}' WHERE event_id = 'e1'`,
    )
    .run();
  w.hub
    .prepare(`UPDATE orders SET steps = '[{"at":"${NOW}","state":"jam_hold","message":"held"}]'`)
    .run();
  t.same(
    kinds(w.run()),
    ['dispense-once'],
    'without the DiskRemoved it is still a completed order without a take',
  );
  w.hub
    .prepare(
      `INSERT INTO events (event_id, kiosk_id, seq, type, at, data, received_at) VALUES ('e2', 'kiosk-1', 2, 'DiskRemoved', ?, '{"slot":1,"diskId":"disk-K1-S1","state":"fault","reason":"pulled"}', ?)`,
    )
    .run(NOW, NOW);
  w.hub.prepare(`UPDATE kiosks SET last_seq = 2`).run();
  w.kdb.prepare(`UPDATE counters SET value = 2 WHERE name = 'outbox_seq'`).run();
  const r = check(w.input);
  t.same(r.violations, []);
  t.equal(r.stats.pulledDuringJamHold, 1);
});

t.test(
  'a pickup-code dispense the kiosk made itself: known through its PickupCodeAccepted, once',
  async (t) => {
    const w = await world(t);
    // The kiosk was offline: the hub armed the code (ArmPickupCode c1); the renter typed it; the
    // kiosk dispensed under its own commandId k1 and reported PickupCodeAccepted, then
    // DispenseCompleted (no orderId); the hub opened o1 with k1. The renter's hand did not know
    // the order at the take.
    w.hub
      .prepare(
        `UPDATE commands SET action = 'ArmPickupCode', payload = '{"reservationId":"rsv1","slot":1}' WHERE id = 'c1'`,
      )
      .run();
    w.hub.prepare(`UPDATE orders SET command_id = 'k1', reservation_id = 'rsv1'`).run();
    w.hub
      .prepare(
        `UPDATE events SET seq = 2, data = '{"commandId":"k1","reservationId":"rsv1","outcome":"taken","slot":1,"diskId":"disk-K1-S1"}' WHERE event_id = 'e1'`,
      )
      .run();
    w.hub
      .prepare(
        `INSERT INTO events (event_id, kiosk_id, seq, type, at, data, received_at) VALUES ('e0', 'kiosk-1', 1, 'PickupCodeAccepted', ?, '{"commandId":"k1","armCommandId":"c1","reservationId":"rsv1","slot":1,"diskId":"disk-K1-S1"}', ?)`,
      )
      .run(NOW, NOW);
    w.hub.prepare(`UPDATE kiosks SET last_seq = 2`).run();
    w.kdb.prepare(`UPDATE counters SET value = 2 WHERE name = 'outbox_seq'`).run();
    w.kdb
      .prepare(
        `UPDATE inbox SET action = 'ArmPickupCode', payload = '{"slot":1}' WHERE command_id = 'c1'`,
      )
      .run();
    w.kdb
      .prepare(
        `INSERT INTO inbox (command_id, action, payload, state, received_at) VALUES ('k1', 'Dispense', '{"slot":1,"reservationId":"rsv1"}', 'done', ?)`,
      )
      .run(NOW);
    w.hands.log[0]!.orderId = '';
    w.hands.log[0]!.reservationId = 'rsv1';
    const r = check(w.input);
    t.same(r.violations, [], 'its Dispense, push, take and order all accounted for');
    t.equal(r.stats.pickupCodesAccepted, 1);

    // The same code dispensing a second time is a violation, and so is a Dispense of the kiosk's
    // own that no PickupCodeAccepted explains.
    w.hub
      .prepare(
        `INSERT INTO events (event_id, kiosk_id, seq, type, at, data, received_at) VALUES ('e3', 'kiosk-1', 3, 'PickupCodeAccepted', ?, '{"commandId":"k2","armCommandId":"c1","reservationId":"rsv1","slot":1,"diskId":"disk-K1-S1"}', ?)`,
      )
      .run(NOW, NOW);
    w.hub.prepare(`UPDATE kiosks SET last_seq = 3`).run();
    w.kdb.prepare(`UPDATE counters SET value = 3 WHERE name = 'outbox_seq'`).run();
    w.kdb
      .prepare(
        `INSERT INTO inbox (command_id, action, payload, state, received_at) VALUES ('k3', 'Dispense', '{"slot":1}', 'done', ?)`,
      )
      .run(NOW);
    const v = w.run();
    t.ok(
      v.some((x) => x.invariant === 'pickup-code-once' && x.ids.reservationId === 'rsv1'),
      JSON.stringify(v),
    );
    t.ok(
      v.some((x) => x.invariant === 'pickup-code-order' && x.ids.commandId === 'k2'),
      'an acceptance with no order of its own',
    );
    t.ok(
      v.some((x) => x.invariant === 'commands-known' && x.ids.commandId === 'k3'),
      JSON.stringify(v),
    );
  },
);
