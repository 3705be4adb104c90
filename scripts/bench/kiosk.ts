// bench:kiosk — (1) latency from a Dispense received (at the inbox gate, as from the hub
// link) to the EJECT frame reaching the simulated board, p50/p99 over 1,000 commands, full
// path: inbox record, signature + nonce, slot transition (synchronous=FULL), USB power,
// relay, driver framing; idle, and while two PrepareDisk run on the same kiosk (image
// mode, loop disks, real storage; root) (kiosk-dispense.ts); (2) committed slot
// transitions per second (each one transaction with its outbox event) with
// synchronous=FULL vs NORMAL, and the ratio; (3) kioskd's idle CPU over 60 s with the
// real drive and USB watchers beside an idle node (kiosk-idle.ts).
//   npm run bench:kiosk [-- --busy-only | --idle-cpu-only] [-- --shared-disk]   (BENCH_N, BENCH_IDLE_SECONDS, BENCH_IDLE_SETTLE_SECONDS, BENCH_PREPARE_BYTES)
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureIdentity, openDb } from '../../kiosk/db/open-db.js';
import { silentLogger } from '../../kiosk/log.js';
import { SlotStore } from '../../kiosk/slots/slot-store.js';
import { HubClock } from '../../kiosk/state/clock.js';
import { Outbox } from '../../kiosk/state/outbox.js';
import { generateSigningKeyPair } from '../../protocol/index.js';
import { Cleanup, guardProcess } from '../lib/cleanup.js';
import { busyDispenses, idleDispenses } from './kiosk-dispense.js';
import { idleCpu } from './kiosk-idle.js';

const N = Number(process.env.BENCH_N ?? 1000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
/** Seconds after kioskd's start before the idle window opens (start-up GC done). */
const IDLE_SETTLE_SECONDS = Number(process.env.BENCH_IDLE_SETTLE_SECONDS ?? 90);
const busyOnly = process.argv.includes('--busy-only');
const idleCpuOnly = process.argv.includes('--idle-cpu-only');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
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

// A signal or a crash still stops the kiosks (unmounting, detaching their loop disks).
const cleanup = new Cleanup((what, err) => console.error(`cleanup: ${what}: ${err.message}`));
guardProcess(cleanup, { name: 'bench:kiosk' });
const onStop = (what: string, fn: () => Promise<unknown>) => cleanup.add(what, fn);
const keys = generateSigningKeyPair();
const dirFor = (what: string) => {
  const d = mkdtempSync(path.join(os.tmpdir(), `bench-kiosk-${what}-`));
  cleanup.add('work dir', () => rmSync(d, { recursive: true, force: true }));
  return d;
};
const line = (what: string, lat: number[]) =>
  `  ${what}: p50 ${pct(lat, 50).toFixed(2)} ms   p99 ${pct(lat, 99).toFixed(2)} ms   max ${Math.max(...lat).toFixed(2)} ms   (${lat.length} dispenses; aim: p99 < 20 ms: ${pct(lat, 99) < 20 ? 'met' : 'NOT met'})`;
try {
  if (!idleCpuOnly)
    console.log('Dispense received -> EJECT frame at the board (synchronous=FULL):');
  if (!busyOnly && !idleCpuOnly)
    console.log(
      line('idle                        ', await idleDispenses(dirFor('idle'), keys, N, onStop)),
    );
  if (idleCpuOnly) {
    // only the idle CPU below
  } else if (process.getuid?.() === 0) {
    // The slot disks (loop devices) and the content cache on a device apart from the
    // database (RAM here), as on a kiosk: slot disks are USB disks, and docs/cloning.md
    // puts the cache on an SSD apart from the SD card. With --shared-disk everything is on
    // one disk: the preparations' writes then slow the database's fsync (and the dispense).
    const shared = process.argv.includes('--shared-disk');
    const apart = existsSync('/dev/shm') && !shared ? '/dev/shm' : os.tmpdir();
    const disksDir = mkdtempSync(path.join(apart, 'bench-kiosk-disks-'));
    cleanup.add('slot disk files', () => rmSync(disksDir, { recursive: true, force: true }));
    const busy = await busyDispenses(dirFor('busy'), keys, {
      diskBytes: 2 * 2 ** 30,
      contentBytes: Number(process.env.BENCH_PREPARE_BYTES ?? 1.2e9),
      max: N,
      onStop,
      disksDir,
      cacheDir: path.join(disksDir, 'cache'),
    });
    console.log(line('two preparations running     ', busy.latencies));
    console.log(
      `    (slot disks and cache in ${apart}, database in ${os.tmpdir()}; ${busy.skipped} dispense(s) left out: not both preparations running throughout; afterwards slots 1-2 ${busy.slots.join(', ')}; images: ${busy.images.join(', ') || 'none'})`,
    );
  } else {
    console.log('  two preparations running: skipped (needs root for loop disks)');
  }
  if (!busyOnly && !idleCpuOnly) {
    const full = transitionsPerSecond(dirFor('tx'), 'FULL');
    const normal = transitionsPerSecond(dirFor('tx'), 'NORMAL');
    console.log('Committed slot transitions (each with its outbox event), WAL:');
    console.log(
      `  synchronous=FULL   ${full.toFixed(0)} /s   (aim: >= 500/s: ${full >= 500 ? 'met' : 'NOT met'})`,
    );
    console.log(`  synchronous=NORMAL ${normal.toFixed(0)} /s`);
    console.log(`  ratio NORMAL/FULL  ${(normal / full).toFixed(2)}x`);
  }
  if (!busyOnly) {
    const idle = await idleCpu(dirFor('cpu'), keys, IDLE_SECONDS, onStop, IDLE_SETTLE_SECONDS);
    const diff = idle.kioskdPercent - idle.nodePercent;
    console.log(
      `Idle CPU over ${idle.seconds} s from ${idle.settleSeconds} s after start (kioskd as built, metrics served as on the SD image, with the real drive watcher: ${idle.watching}, ${idle.blockEvents} block-device event(s) on this machine meanwhile; USB: ${idle.usb}; load average ${idle.load}):`,
    );
    console.log(
      `  kioskd ${idle.kioskdPercent.toFixed(3)}% of a core, idle node ${idle.nodePercent.toFixed(3)}%`,
    );
    console.log(
      `  difference ${diff.toFixed(3)} points (aim: within 0.2% of a core: ${Math.abs(diff) <= 0.2 ? 'met' : 'NOT met'})`,
    );
  }
} finally {
  await cleanup.run();
}
