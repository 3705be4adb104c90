/**
 * bench:kiosk, idle CPU: a kioskd process, as the SD image runs it (compiled to dist/ first,
 * no tsx: the TypeScript loader's heap alone costs a few tenths of a percent of a core in
 * garbage collection; the metrics served on a free port), with the REAL drive and USB
 * watchers of this machine (udev events, libusb hotplug, the USB simulator only where the
 * machine has no USB bus; the board and GPIO simulated, no hub reachable) left alone for
 * `seconds`, beside an idle `node -e 'setInterval(()=>{},1e9)'` started at the same time:
 * user + sys CPU of each (kioskd's children, e.g. `udevadm monitor`, included), from /proc,
 * as a percentage of one core.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UdevMonitor } from '../../hal/drives/udev-monitor.js';
import type { Keys, OnStop } from './kiosk-dispense.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime (+ reaped children's when `reaped`) of one process, in clock ticks. */
function ticksOf(pid: number, reaped: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
    const n = (i: number) => Number(f[i - 3]);
    return n(14) + n(15) + (reaped ? n(16) + n(17) : 0);
  } catch {
    return 0; // gone
  }
}

/** The CPU ticks of `pid` and every live descendant (reaped ones through cutime/cstime). */
function treeTicks(pid: number): number {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  let total = ticksOf(pid, true);
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      total += ticksOf(child, false);
      walk(child);
    }
  };
  walk(pid);
  return total;
}

function waitForLine(child: ChildProcess, re: RegExp, ms: number, seen: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => reject(new Error(`kioskd did not log ${re} within ${ms} ms:\n${buf.slice(-2000)}`)),
      ms,
    );
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        if (/watching the slot disks/.test(line) && !seen.includes(line)) seen.push(line);
        if (re.test(line)) {
          clearTimeout(timer);
          resolve(line);
        }
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`kioskd exited (${code}) before logging ${re}:\n${buf.slice(-2000)}`)),
    );
  });
}

export interface IdleResult {
  seconds: number;
  /** How long after "kioskd started" the window began. */
  settleSeconds: number;
  kioskdPercent: number;
  nodePercent: number;
  /** How kioskd said it watches the disks (`udev` expected). */
  watching: string;
  /** `real hotplug`, or why the USB simulator stood in. */
  usb: string;
  /** Block-device events on this machine during the window (others' loop devices...). */
  blockEvents: number;
  /** The 1-minute load average at the window's start and end. */
  load: string;
}

export async function idleCpu(
  dir: string,
  keys: Keys,
  seconds: number,
  onStop: OnStop,
  settleSeconds = 90,
): Promise<IdleResult> {
  const config = path.join(dir, 'kioskd.json');
  // The `usb` package cannot start where the kernel has no USB (a VM without a USB bus).
  const usbBus = existsSync('/sys/bus/usb/devices');
  writeFileSync(
    config,
    JSON.stringify({
      kioskId: 'bench-idle',
      dataDir: path.join(dir, 'data'),
      // Nothing listens there: the hub link backs off (up to a minute between attempts).
      hub: { url: 'ws://127.0.0.1:9/kiosk', secret: 's', publicKeyPem: keys.publicKeyPem },
      slots: { count: 8 },
      hardware: {
        motorBoard: { driver: 'sim' },
        gpio: { driver: 'sim' },
        usb: { driver: usbBus ? 'real' : 'sim' },
        drives: { driver: 'real' },
        storage: { driver: 'real', mountRoot: path.join(dir, 'mnt') },
      },
      logLevel: 'info',
      maintenanceSocket: path.join(dir, 'kioskd.sock'),
      // As the SD image (kioskd.defaults.json: port 9465): the metrics served, on a free port.
      metrics: { host: '127.0.0.1', port: 0 },
    }),
  );
  execFileSync(process.execPath, [
    path.join(ROOT, 'node_modules/typescript/bin/tsc'),
    '-p',
    path.join(ROOT, 'tsconfig.build.json'),
  ]);
  const main = path.join(ROOT, 'dist/kiosk/main.js');
  const run = `const m = await import(${JSON.stringify(main)}); process.exitCode = await m.main(process.argv.slice(1));`;
  const kioskd = spawn(
    process.execPath,
    ['--input-type=module', '-e', run, '--', '--config', config],
    {
      cwd: ROOT,
      env: { ...process.env, JOURNAL_STREAM: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const node = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e9)'], { stdio: 'ignore' });
  const stop = async () => {
    node.kill('SIGKILL');
    if (kioskd.exitCode !== null || kioskd.signalCode !== null) return;
    const exited = new Promise((r) => kioskd.once('exit', r));
    kioskd.kill('SIGTERM');
    await exited;
  };
  onStop('kioskd (idle CPU)', stop);
  try {
    const seen: string[] = [];
    await waitForLine(kioskd, /"msg":"kioskd started"/, 60_000, seen);
    kioskd.stdout?.resume();
    // Start-up done: JIT compilation and the garbage collector's after-start work settle.
    // V8's memory reducer runs its three mark-compacts about a minute after start (57-65 s
    // here, about 0.12 s of CPU once): a window starting 20 s after start caught them (12
    // ticks in [20, 80] s against 2 in [90, 150] s), which is start-up, not idling.
    await new Promise((r) => setTimeout(r, settleSeconds * 1000));
    const monitor = new UdevMonitor();
    let blockEvents = 0;
    monitor.on('event', () => blockEvents++);
    monitor.start();
    onStop('udev monitor', async () => monitor.stop());
    const load0 = os.loadavg()[0] ?? 0;
    const k0 = treeTicks(kioskd.pid as number);
    const n0 = treeTicks(node.pid as number);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const k1 = treeTicks(kioskd.pid as number);
    const n1 = treeTicks(node.pid as number);
    monitor.stop();
    const pct = (t: number) => (t / TICK / seconds) * 100;
    const mode = /"mode":"(\w+)"/.exec(seen[0] ?? '')?.[1] ?? 'not reported';
    return {
      seconds,
      settleSeconds,
      kioskdPercent: pct(k1 - k0),
      nodePercent: pct(n1 - n0),
      watching: mode,
      blockEvents,
      load: `${load0.toFixed(1)} -> ${(os.loadavg()[0] ?? 0).toFixed(1)}`,
      usb: usbBus ? 'real hotplug' : 'simulated (this machine has no USB bus: /sys/bus/usb absent)',
    };
  } finally {
    await stop();
  }
}
