// Crash safety: kioskd runs as a CHILD PROCESS, its slot board is the byte-level simulator
// on a real pty (socat) living in THIS process, so the simulator's physical record survives
// kioskd's death. kioskd is SIGKILLed at each step of a dispense, restarted, and must settle
// the dispense by the sensors: at most one push per disk, exactly one DispenseCompleted per
// command (distinct eventIds), slots agreeing with the sensors.
import { writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { startPtySimulator } from '../../../hal/motor-board/pty-sim.js';
import { ensureIdentity, openDb } from '../../../kiosk/db/open-db.js';
import { silentLogger } from '../../../kiosk/log.js';
import { stockSlot } from '../../../kiosk/returns/stock.js';
import { SlotStore } from '../../../kiosk/slots/slot-store.js';
import { HubClock } from '../../../kiosk/state/clock.js';
import { Outbox } from '../../../kiosk/state/outbox.js';
import {
  type DispenseRequest,
  generateSigningKeyPair,
  signCommand,
} from '../../../protocol/index.js';
import { TestHubPeer } from '../../helpers/test-hub-peer.js';
import { KIOSK_ID, SECRET, tempDir } from '../daemon/harness.js';
import { startKioskd } from './kioskd-child.js';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

interface Expect {
  outcome: string;
  state: string;
  ejects: number;
  take: boolean;
}

const STEPS: Record<string, Expect> = {
  received: { outcome: 'failed', state: 'ready', ejects: 0, take: false },
  recorded: { outcome: 'failed', state: 'ready', ejects: 0, take: false },
  ejected: { outcome: 'not_taken', state: 'ready', ejects: 1, take: false },
  taken: { outcome: 'taken', state: 'empty', ejects: 1, take: true },
  completed: { outcome: 'taken', state: 'empty', ejects: 1, take: true },
};

for (const [step, want] of Object.entries(STEPS)) {
  t.test(`SIGKILL at "${step}", restart: settled by the sensors`, async (t) => {
    const dir = tempDir(t, 'kioskd-crash-');
    const keys = generateSigningKeyPair();
    const hub = new TestHubPeer({ kiosks: { [KIOSK_ID]: SECRET }, heartbeatInterval: 30 });
    await hub.start();
    t.teardown(() => hub.close());
    const pty = await startPtySimulator({ dir, slots: 2, loaded: [1], ejectMs: 50, retractMs: 50 });
    t.teardown(() => pty.close());
    const dataDir = path.join(dir, 'data');
    const configFile = path.join(dir, 'kioskd.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        kioskId: KIOSK_ID,
        dataDir,
        hub: {
          url: hub.url,
          secret: SECRET,
          publicKeyPem: keys.publicKeyPem,
          backoff: { baseMs: 20, capMs: 200, stableSeconds: 1 },
          callTimeoutSeconds: 3,
        },
        slots: { count: 2 },
        hardware: {
          motorBoard: { driver: 'real', path: pty.path, replyTimeoutMs: 200 },
          gpio: { driver: 'sim', debounceMs: 1 },
          usb: { driver: 'sim', enumerateMs: 1 },
          drives: { driver: 'sim', pollIntervalMs: 200 },
          storage: { driver: 'sim', mountRoot: path.join(dir, 'mnt') },
        },
        logLevel: 'warn',
      }),
    );
    // Stock slot 1 with a ready disk before the first start.
    {
      const db = openDb({ file: path.join(dataDir, 'kioskd.sqlite') });
      ensureIdentity(db, KIOSK_ID);
      const clock = new HubClock({ db });
      const outbox = new Outbox({ db, clock });
      const slots = new SlotStore({ db, outbox, clock, log: silentLogger() });
      slots.ensureSlots(2);
      stockSlot({ db, slots, clock }, { slot: 1, disk: { diskId: 'disk-1', usbSerial: 'SER1' } });
      db.close();
    }

    const first = startKioskd(configFile, { KIOSKD_TEST_HOOKS: '1', KIOSKD_TEST_CRASH_AT: step });
    t.teardown(() => first.stop(1000));
    await hub.waitFor(() => hub.inventories.length >= 1, 'first kioskd booted', 20_000);
    const cmd = signCommand(
      keys.privateKeyPem,
      KIOSK_ID,
      'Dispense',
      {
        commandId: crypto.randomUUID(),
        slot: 1,
        diskId: 'disk-1',
        orderId: `order-${step}`,
        writeProtect: true,
        pickupWindowSeconds: 3,
      },
      { ttlMs: 120_000 },
    ) as DispenseRequest;
    const answer = hub.call('Dispense', cmd, 5000).catch((e: Error) => e);
    if (want.take) {
      await hub.waitFor(() => {
        const s = pty.sim.sensors(1);
        return s.present && !s.seated;
      }, 'disk at the pickup position');
      pty.sim.takeDisk(1);
    }
    const how = await Promise.race([
      first.exited,
      new Promise((r) => setTimeout(() => r('still running'), 15_000)),
    ]);
    t.equal(how, 'SIGKILL', `kioskd killed itself at ${step}`);
    await answer;
    // A killed process may take socat (and the pty links) with it: plug the adapter back.
    if (!(await exists(pty.path))) {
      await pty.unplug();
      await pty.replug();
    }
    const eventsBefore = hub.events.length;
    const second = startKioskd(configFile);
    t.teardown(() => second.stop(1000));
    await hub.waitFor(() => hub.boots.length >= 2, 'second kioskd booted', 20_000);
    t.equal(hub.boots.at(-1)?.bootReason, 'Crash', 'the restart reports a crash');
    // The hub re-sends the unanswered/unfinished command, as cloud-lite does after reconnect.
    await hub.call('Dispense', cmd, 5000).catch(() => undefined);
    const completions = () => {
      const ids = new Set<string>();
      for (const e of hub.events) {
        if (e.type === 'DispenseCompleted' && e.data.commandId === cmd.commandId)
          ids.add(e.eventId);
      }
      return ids;
    };
    await hub
      .waitFor(() => completions().size >= 1, 'DispenseCompleted', 15_000)
      .catch((e) => {
        t.comment(second.output());
        throw e;
      });
    await hub.waitFor(() => second.proc.exitCode === null && hub.connected, 'link up');
    // Give a duplicate (if any) the chance to show up: wait for the outbox to drain.
    await hub
      .waitFor(
        () => hub.events.slice(eventsBefore).some((e) => e.type === 'DispenseCompleted'),
        'events after restart',
        15_000,
      )
      .catch(() => undefined);
    t.equal(completions().size, 1, 'exactly one DispenseCompleted (distinct eventIds)');
    const done = hub.events.find((e) => e.type === 'DispenseCompleted')!;
    t.match(done.data, { outcome: want.outcome, slot: 1, diskId: 'disk-1' });
    t.equal(pty.sim.ejectCount(1), want.ejects, 'pushes actually performed');
    t.ok(pty.sim.ejectCount(1) <= 1, 'never pushed twice');
    const code = await second.stop();
    t.equal(code, 0, 'clean stop on SIGTERM');
    // The database agrees with the sensors.
    const db = openDb({ file: path.join(dataDir, 'kioskd.sqlite') });
    const slot = db.prepare('SELECT state FROM slots WHERE slot = 1').get() as { state: string };
    const unfinished = db
      .prepare("SELECT count(*) AS n FROM inbox WHERE state IN ('received','executing')")
      .get() as { n: number };
    db.close();
    t.equal(slot.state, want.state);
    const s = pty.sim.sensors(1);
    t.equal(s.present, want.state !== 'empty', 'sensor agrees with the slot state');
    if (s.present) t.ok(s.seated, 'a disk in stock is seated');
    t.equal(unfinished.n, 0, 'no command left unfinished');
  });
}
