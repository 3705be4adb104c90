import type { Test } from 'tap';
/**
 * The contract every Drives implementation meets. Run against the simulator always,
 * and against the real driver when HAL_DRIVES_REAL=1 (see contract.test.ts).
 */
import { findSystemDisks } from '../../../hal/drives/system-disks.js';
import type { Drives } from '../../../hal/drives/types.js';

export interface DrivesFixture {
  drives: Drives;
  /** Devices that must never be listed (beyond the machine's own system disks). */
  forbidden: string[];
  /** Puts a disk into a calibrated slot and returns [slot, device]; absent on real hardware. */
  insert?: () => Promise<[number, string]>;
  remove?: (slot: number) => Promise<void>;
}

export function drivesContract(t: Test, make: (t: Test) => Promise<DrivesFixture>): void {
  t.test('start, list, stop', async (t) => {
    const { drives } = await make(t);
    await drives.start();
    t.teardown(() => drives.stop());
    const list = await drives.list();
    t.ok(Array.isArray(list));
    for (const d of list) {
      t.ok(Number.isInteger(d.slot), `${d.device} has an integer slot`);
      t.ok(d.portPaths.length > 0, `${d.device} has port paths`);
      t.same(await drives.diskForSlot(d.slot), d, 'diskForSlot agrees with list');
      t.same(await drives.resolveSlotDisk(d.device), d, 'resolveSlotDisk finds it by device');
    }
    await drives.stop();
    await drives.stop();
    t.pass('stop is idempotent');
  });

  t.test('the system disk is never listed nor resolvable', async (t) => {
    const { drives, forbidden } = await make(t);
    await drives.start();
    t.teardown(() => drives.stop());
    const system = [...(await findSystemDisks()), ...forbidden];
    t.ok(system.length > 0, `system disks found: ${system.join(', ')}`);
    const listed = [...(await drives.list()), ...(await drives.candidates())].map((d) => d.device);
    for (const dev of system) {
      t.notOk(listed.includes(dev), `${dev} is not listed`);
      t.equal(await drives.resolveSlotDisk(dev), undefined, `${dev} does not resolve`);
    }
  });

  t.test('attach and detach events', async (t) => {
    const fx = await make(t);
    if (!fx.insert || !fx.remove) {
      t.plan(0, 'skip: needs a technician to insert a disk on real hardware');
      return;
    }
    const { drives } = fx;
    await drives.start();
    t.teardown(() => drives.stop());
    const attached = new Promise<unknown>((r) => drives.once('attach', r));
    const [slot, device] = await fx.insert();
    await drives.rescan();
    t.match(await attached, { slot, device });
    t.equal((await drives.resolveSlotDisk(device))?.slot, slot);
    const detached = new Promise<unknown>((r) => drives.once('detach', r));
    await fx.remove(slot);
    await drives.rescan();
    t.match(await detached, { slot, device });
    t.equal(await drives.diskForSlot(slot), undefined);
  });
}
