import path from 'node:path';
import t from 'tap';
import type { SlotDisk } from '../../../hal/drives/index.js';
import { startRig } from './harness.js';

t.test('a dispensed disk returned to another slot is identified by its serial', async (t) => {
  const rig = await startRig(t, { deps: { returnDriveWaitMs: 3000 } });
  const diskId = rig.stock(1);
  t.same(await rig.hub.call('Dispense', rig.dispense({ slot: 1, diskId })), { status: 'Accepted' });
  await rig.until('pickup', () => !rig.sim.sensors(1).seated);
  rig.sim.takeDisk(1);
  await rig.until('taken', () => rig.daemon.slots.get(1).state === 'empty');
  // The renter brings it back into slot 3: it enumerates on USB and the sensor sees it.
  await rig.drives.insert(3, { dir: path.join(rig.dir, 'disk-a'), serial: 'SER1' });
  rig.sim.insertDisk(3);
  await rig.until('DiskReturned', () => rig.eventsOf('DiskReturned').length === 1);
  t.match(rig.eventsOf('DiskReturned')[0], {
    slot: 3,
    diskId,
    usbSerial: 'SER1',
    identityValid: false,
  });
  // Checked by the cloning side: a writable disk is wiped and goes to loaded.
  await rig.until(
    'checked',
    () => !['returned', 'preparing'].includes(rig.daemon.slots.get(3).state),
  );
  const slot = rig.daemon.slots.get(3);
  t.equal(slot.state, 'loaded', 'writable returned disk wiped: loaded');
  t.equal(slot.diskId, diskId);
});

t.test('with a checker and identity reader: returned, handed over', async (t) => {
  const handed: Array<[number, SlotDisk]> = [];
  const rig = await startRig(t, {
    deps: {
      returnDriveWaitMs: 3000,
      extensions: {
        readIdentity: async () => ({ diskId: 'disk-from-file', valid: true }),
        checkReturnedDisk: async (slot, disk) => {
          handed.push([slot, disk]);
        },
      },
    },
  });
  await rig.drives.insert(2, { dir: path.join(rig.dir, 'disk-b'), serial: 'NEW-1' });
  rig.sim.insertDisk(2);
  await rig.until('handed to the checker', () => handed.length === 1);
  t.equal(rig.daemon.slots.get(2).state, 'returned');
  t.equal(rig.daemon.slots.get(2).diskId, 'disk-from-file');
  t.equal(handed[0]?.[0], 2);
  await rig.until('DiskReturned', () => rig.eventsOf('DiskReturned').length === 1);
  t.match(rig.eventsOf('DiskReturned')[0], {
    slot: 2,
    diskId: 'disk-from-file',
    identityValid: true,
  });
});

t.test('an object the sensor sees but USB never shows -> fault ENODRIVE', async (t) => {
  const rig = await startRig(t, { deps: { returnDriveWaitMs: 300 } });
  rig.sim.insertDisk(4);
  await rig.until('fault', () => rig.daemon.slots.get(4).state === 'fault');
  t.equal(rig.daemon.slots.get(4).fault?.code, 'ENODRIVE');
  await rig.until('FaultRaised', () => rig.eventsOf('FaultRaised').length === 1);
});
