// A slot board that does not answer at start does not stop kioskd: it connects to the hub,
// keeps retrying the board, and reconciles the slots once the board answers (real serialport
// driver on a pty; the board simulator is unplugged at start).
import t from 'tap';
import { startPtySimulator } from '../../../hal/motor-board/pty-sim.js';
import { Daemon } from '../../../kiosk/daemon.js';
import { ensureIdentity, openDb } from '../../../kiosk/db/open-db.js';
import { silentLogger } from '../../../kiosk/log.js';
import { stockSlot } from '../../../kiosk/returns/stock.js';
import { SlotStore } from '../../../kiosk/slots/slot-store.js';
import { HubClock } from '../../../kiosk/state/clock.js';
import { Outbox } from '../../../kiosk/state/outbox.js';
import { generateSigningKeyPair } from '../../../protocol/index.js';
import { TestHubPeer } from '../../helpers/test-hub-peer.js';
import { KIOSK_ID, SECRET, simConfig, tempDir } from './harness.js';

t.test('board unplugged at start: kioskd runs, retries, reconciles when it answers', async (t) => {
  const dir = tempDir(t, 'kioskd-board-late-');
  const keys = generateSigningKeyPair();
  const hub = new TestHubPeer({ kiosks: { [KIOSK_ID]: SECRET }, heartbeatInterval: 30 });
  await hub.start();
  t.teardown(() => hub.close());
  // The board holds no disk, but the database says slot 1 holds one: the reconciliation
  // after the board answers must report it gone (DiskRemoved).
  const pty = await startPtySimulator({ dir, slots: 2, loaded: [] });
  t.teardown(() => pty.close());
  await pty.unplug();
  const config = simConfig(dir, hub.url, keys.publicKeyPem, {
    slots: 2,
    motorBoard: { driver: 'real', path: pty.path, replyTimeoutMs: 200, retries: 1 },
  });
  {
    const db = openDb({ file: `${config.dataDir}/kioskd.sqlite` });
    ensureIdentity(db, KIOSK_ID);
    const clock = new HubClock({ db });
    const slots = new SlotStore({
      db,
      outbox: new Outbox({ db, clock }),
      clock,
      log: silentLogger(),
    });
    slots.ensureSlots(2);
    stockSlot({ db, slots, clock }, { slot: 1, disk: { diskId: 'disk-1', usbSerial: 'SER1' } });
    db.close();
  }
  const daemon = new Daemon({ config, log: silentLogger(), env: {} });
  t.teardown(() => daemon.stop());
  await daemon.start();
  t.notOk(daemon.hardware.board.connected, 'started without the board');
  await hub.waitFor(() => hub.inventories.length >= 1, 'kiosk booted at the hub', 10_000);
  const removed = () => hub.events.filter((e) => e.type === 'DiskRemoved');
  t.equal(removed().length, 0, 'slots not judged while the board is silent');

  await pty.replug();
  await hub.waitFor(
    () => removed().length === 1,
    'slots reconciled once the board answers',
    20_000,
  );
  t.ok(daemon.hardware.board.connected);
  t.match(removed()[0]!.data, { slot: 1, diskId: 'disk-1' });
  await hub.waitFor(() => hub.inventories.length >= 2, 'a fresh Inventory after it', 10_000);
  t.equal(daemon.slots.get(1).diskId, null, 'the slot no longer claims the disk');
});
