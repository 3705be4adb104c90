// bench:kiosk — (1) latency from a Dispense received (at the inbox gate, as from the hub
// link) to the EJECT frame reaching the simulated board, p50/p99 over 1,000 commands, full
// path: inbox record, signature + nonce, slot transition (synchronous=FULL), USB power,
// relay, driver framing; (2) committed slot transitions per second (each one transaction
// with its outbox event) with synchronous=FULL vs NORMAL, and the ratio.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SimulatedMotorBoard } from '../../hal/motor-board/index.js';
import { parseConfig } from '../../kiosk/config.js';
import { Daemon } from '../../kiosk/daemon.js';
import { ensureIdentity, openDb } from '../../kiosk/db/open-db.js';
import { CommandGate } from '../../kiosk/link/commands.js';
import { silentLogger } from '../../kiosk/log.js';
import { stockSlot } from '../../kiosk/returns/stock.js';
import { SlotStore } from '../../kiosk/slots/slot-store.js';
import { HubClock } from '../../kiosk/state/clock.js';
import { Outbox } from '../../kiosk/state/outbox.js';
import { type DispenseRequest, generateSigningKeyPair, signCommand } from '../../protocol/index.js';
import { Cleanup, guardProcess } from '../lib/cleanup.js';

const N = Number(process.env.BENCH_N ?? 1000);
const SLOTS = 16;
const EJECT = 0x03;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

async function dispenseLatency(dir: string): Promise<number[]> {
  const keys = generateSigningKeyPair();
  const config = parseConfig(
    {
      kioskId: 'bench-1',
      dataDir: path.join(dir, 'data'),
      hub: { url: 'ws://127.0.0.1:9/kiosk', secret: 's', publicKeyPem: keys.publicKeyPem },
      slots: { count: SLOTS },
      hardware: {
        motorBoard: { driver: 'sim', ejectMs: 1, retractMs: 1 },
        gpio: { driver: 'sim', debounceMs: 1 },
        usb: { driver: 'sim', enumerateMs: 1 },
        drives: { driver: 'sim', pollIntervalMs: 1000 },
        storage: { driver: 'sim', mountRoot: path.join(dir, 'mnt') },
      },
      logLevel: 'silent',
    },
    { env: {} },
  );
  const daemon = new Daemon({ config, log: silentLogger(), env: {} });
  await daemon.start();
  await daemon.link.stop(); // no hub in this bench: commands enter at the gate
  const gate = new CommandGate({
    inbox: daemon.inbox,
    dispatch: daemon.dispatch,
    log: silentLogger(),
  });
  const sim = (daemon.hardware.board as SimulatedMotorBoard).sim;
  let frameAt = 0;
  const push = sim.received.push.bind(sim.received);
  sim.received.push = (...items) => {
    if (items.some((f) => f.cmd === EJECT)) frameAt = performance.now();
    return push(...items);
  };
  const cmds: DispenseRequest[] = [];
  for (let i = 0; i < N; i++) {
    const slot = (i % SLOTS) + 1;
    cmds.push(
      signCommand(
        keys.privateKeyPem,
        'bench-1',
        'Dispense',
        {
          commandId: randomUUID(),
          slot,
          diskId: `d-${i}`,
          writeProtect: i % 2 === 0,
          pickupWindowSeconds: 60,
        },
        { ttlMs: 600_000 },
      ) as DispenseRequest,
    );
  }
  const lat: number[] = [];
  for (let i = 0; i < N; i++) {
    const p = cmds[i]!;
    sim.insertDisk(p.slot);
    stockSlot(daemon, { slot: p.slot, disk: { diskId: p.diskId } });
    frameAt = 0;
    const t0 = performance.now();
    const res = await gate.handle('Dispense', p);
    if (res.status !== 'Accepted')
      throw new Error(`bench: Dispense ${i} answered ${JSON.stringify(res)}`);
    await until(() => frameAt > 0, 'the EJECT frame');
    lat.push(frameAt - t0);
    await until(
      () => !sim.sensors(p.slot).seated && !sim.sensors(p.slot).trayOpen,
      'pickup position',
    );
    sim.takeDisk(p.slot);
    await until(() => daemon.slots.get(p.slot).state === 'empty', 'slot empty');
  }
  if (sim.record.filter((r) => r.kind === 'eject').length !== N)
    throw new Error('bench: eject count mismatch');
  await daemon.stop();
  return lat;
}

function transitionsPerSecond(dir: string, sync: 'FULL' | 'NORMAL', ms = 3000): number {
  const db = openDb({ file: path.join(dir, `tx-${sync}.sqlite`) });
  db.pragma(`synchronous = ${sync}`);
  ensureIdentity(db, 'bench-1');
  const clock = new HubClock({ db });
  const outbox = new Outbox({ db, clock });
  const slots = new SlotStore({ db, outbox, clock, log: silentLogger() });
  slots.ensureSlots(1);
  let n = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  while (performance.now() < end) {
    slots.transition({ slot: 1, from: 'empty', to: 'loaded' });
    slots.transition({ slot: 1, from: 'loaded', to: 'empty' });
    n += 2;
  }
  const rate = n / ((performance.now() - start) / 1000);
  if (slots.get(1).state !== 'empty' || outbox.depth() !== n)
    throw new Error('bench: lost transitions');
  db.close();
  return rate;
}

const cleanup = new Cleanup();
guardProcess(cleanup, { name: 'bench:kiosk' });
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-kiosk-'));
cleanup.add('work dir', () => rmSync(dir, { recursive: true, force: true }));
try {
  const lat = await dispenseLatency(dir);
  const p50 = pct(lat, 50);
  const p99 = pct(lat, 99);
  console.log(`Dispense received -> EJECT frame at the board, ${N} commands (synchronous=FULL):`);
  console.log(
    `  p50 ${p50.toFixed(2)} ms   p99 ${p99.toFixed(2)} ms   max ${Math.max(...lat).toFixed(2)} ms   (aim: p99 < 20 ms: ${p99 < 20 ? 'met' : 'NOT met'})`,
  );
  const full = transitionsPerSecond(dir, 'FULL');
  const normal = transitionsPerSecond(dir, 'NORMAL');
  console.log('Committed slot transitions (each with its outbox event), WAL:');
  console.log(
    `  synchronous=FULL   ${full.toFixed(0)} /s   (aim: >= 500/s: ${full >= 500 ? 'met' : 'NOT met'})`,
  );
  console.log(`  synchronous=NORMAL ${normal.toFixed(0)} /s`);
  console.log(`  ratio NORMAL/FULL  ${(normal / full).toFixed(2)}x`);
} finally {
  await cleanup.run();
}
