// What a `npm run demo -- --scripted` run must show: every step reported and ok, the disks
// said plainly, nothing left behind (no process, loop device or mount under its
// directory), and the hub's database (read with the hub's own store) agreeing: orders
// completed, each payment captured once, the reservation picked up, one rental open and one
// returned at kiosk-3 with its charge. Shared by the scripted-demo and quick-start tests.
import path from 'node:path';
import type { Test } from 'tap';
import { SqliteStore } from '../../cloud-lite/store/sqlite/sqlite-store.js';
import { type DemoChild, leftovers } from './demo-child.js';

export const STEPS = [
  "rent: the renter opens kiosk-1's page",
  'rent: order films-64m',
  'rent: Dispense (3rd instruction) -> kiosk-1 pushes the disk out -> taken -> DispenseCompleted',
  'rent: payment captured once',
  'reserve: kiosks near',
  'reserve: course-64m at kiosk-2',
  'reserve: kiosk-2 prepares a disk',
  "pickup: the renter scans kiosk-2's code",
  'pickup: Dispense -> kiosk-2 pushes the disk out',
  'return: the renter pushes disk',
  'return: DiskReturned -> rental closed with its charges',
  'verify: orders completed, payments captured once, reservation picked up, rental returned',
];

/** Asserts a finished scripted run (exit status already checked by the caller). */
export async function checkScriptedRun(
  t: Test,
  demo: DemoChild,
  disks: 'loop' | 'directory',
): Promise<void> {
  const out = demo.output();
  t.match(
    out,
    disks === 'loop' ? 'loop devices of 64 MiB' : 'DIRECTORY-BACKED simulated disks',
    'the disks used are said plainly',
  );
  for (const [i, s] of STEPS.entries()) {
    t.match(out, `[${i + 1}] ${s}`, `step ${i + 1} reported: ${s}`);
  }
  t.equal(out.match(/^ {4}ok/gm)?.length, STEPS.length, 'every step ok');
  t.match(out, `scripted demo passed: ${STEPS.length} steps`);
  t.match(out, 'stopped: kiosks, simulators, disks and hub');
  t.same(
    await leftovers(demo.dir),
    { processes: [], loops: [], mounts: [] },
    'no kioskd, socat, loop device or mount left',
  );

  // The hub's database after the run.
  const store = SqliteStore.open(path.join(demo.dir, 'hub', 'hub.db'));
  t.teardown(() => store.close());
  const state = await store.transaction(async (tx) => {
    const orders = await tx.orders.listRecent(100);
    const reservations = await tx.reservations.listRecent(100);
    const rentals = await tx.rentals.listByStates(['open', 'returned', 'overdue', 'lost']);
    const payments = await Promise.all(
      [...orders.map((o) => o.id), ...reservations.map((r) => r.id)].map((id) =>
        tx.payments.listByRef(id),
      ),
    );
    const charges = await Promise.all(rentals.map((r) => tx.charges.listByRental(r.id)));
    const audit = await tx.audit.list(1000);
    return { orders, reservations, rentals, payments: payments.flat(), charges, audit };
  });
  t.equal(state.orders.length, 2, 'two orders: the rent and the pickup');
  t.same(
    state.orders.map((o) => [o.kioskId, o.state]).sort(),
    [
      ['kiosk-1', 'completed'],
      ['kiosk-2', 'completed'],
    ],
    'both orders completed',
  );
  t.equal(state.reservations.length, 1);
  t.equal(state.reservations[0]?.state, 'picked_up', 'reservation picked up');
  const captured = state.payments.filter((p) => p.kind === 'auth' && p.state === 'captured');
  t.equal(captured.length, 2, 'two payments captured (rent, reservation)');
  for (const p of captured) {
    t.equal(
      state.audit.filter((a) => a.action === 'payment.captured' && a.subject === p.id).length,
      1,
      `payment ${p.id} (${p.purpose}) captured exactly once`,
    );
  }
  const byState = (s: string) => state.rentals.filter((r) => r.state === s);
  t.equal(byState('open').length, 1, 'the rented disk is out');
  t.equal(byState('open')[0]?.kioskId, 'kiosk-1');
  t.equal(byState('returned').length, 1, 'the reserved disk came back');
  const returned = byState('returned')[0]!;
  t.equal(returned.kioskId, 'kiosk-2', 'rented at kiosk-2');
  t.equal(returned.returnKioskId, 'kiosk-3', 'returned at another kiosk');
  t.ok(
    state.charges[state.rentals.indexOf(returned)]?.some(
      (c) => c.kind === 'rental' && c.amountMinor > 0,
    ),
    'the returned rental carries its rental charge',
  );
}
