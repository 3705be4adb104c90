// End to end against the REAL cloud-lite hub: enrol a kiosk through its API, run kioskd
// (in-process, simulated hardware) with the enrolled secret and the hub's public key, send
// a signed Dispense through the hub's sendCommand, the renter takes the disk in the
// simulator, and the hub records DispenseCompleted taken exactly once.
import t from 'tap';
import type { SimulatedMotorBoard } from '../../hal/motor-board/index.js';
import { stockSlot } from '../../kiosk/returns/stock.js';
import { startTestHub, waitUntil } from '../cloud-lite/fixtures/test-hub.js';
import { startHubKioskd } from '../helpers/hub-kioskd.js';
import { tempDir } from '../kiosk/daemon/harness.js';

t.test('Dispense through cloud-lite: taken, recorded once', async (t) => {
  const hub = await startTestHub(t);
  const kioskId = 'kiosk-e2e-1';
  const pk = await hub.api('GET', '/api/hub/public-key', undefined, null);
  t.equal(pk.status, 200);
  t.match(String(pk.body), /BEGIN PUBLIC KEY/);
  const { daemon } = await startHubKioskd(t, hub, tempDir(t, 'kioskd-e2e-'), kioskId);
  const sim = (daemon.hardware.board as SimulatedMotorBoard).sim;
  sim.insertDisk(1); // a technician loads a prepared disk (sensor and record together)
  stockSlot(daemon, {
    slot: 1,
    disk: { diskId: 'disk-e2e', usbSerial: 'E2E1', capacityBytes: 1e9 },
  });
  await waitUntil('kiosk connected', () => hub.server.hub.isConnected(kioskId), 30_000);

  const cmd = await hub.server.hub.sendCommand(
    kioskId,
    'Dispense',
    { slot: 1, diskId: 'disk-e2e', writeProtect: true, pickupWindowSeconds: 10 },
    new Date(Date.now() + 120_000),
  );
  const answered = await hub.server.hub.waitFor(cmd.id, { timeoutMs: 10_000 });
  t.equal(answered.state, 'accepted', 'the kiosk accepted the signed command');
  await waitUntil('disk at the pickup position', () => !sim.sensors(1).seated, 30_000);
  sim.takeDisk(1);
  const completions = async () =>
    (
      await hub.server.store.transaction((tx) => tx.events.listForKiosk(kioskId, { limit: 1000 }))
    ).filter((e) => e.type === 'DispenseCompleted');
  await waitUntil(
    'DispenseCompleted recorded by the hub',
    async () => (await completions()).length > 0,
    10_000,
  );
  // Let the kiosk drain anything else (a duplicate would arrive now), then count.
  await waitUntil('outbox drained', () => daemon.outbox.depth() === 0, 30_000);
  const done = await completions();
  t.equal(new Set(done.map((e) => e.eventId)).size, 1, 'exactly one DispenseCompleted');
  t.match(done[0]?.data, { commandId: cmd.id, slot: 1, diskId: 'disk-e2e', outcome: 'taken' });
  t.equal(daemon.slots.get(1).state, 'empty');
  t.equal(sim.ejectCount(1), 1);
});
