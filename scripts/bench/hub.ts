// Hub benchmark (`npm run bench:hub`): a cloud-lite hub process and a SEPARATE load process of
// simulated kiosks over loopback. Prints hub RSS per idle connection, command round trips per
// second with p50/p99 latency at 1,000 kiosks, and the time for every kiosk to reconnect after
// a hub restart, each with its ratio to the aim; and the hub's money path (deposit top-ups)
// with its database at synchronous=FULL (what the hub runs) beside NORMAL, in the same run,
// each in a fresh hub. Both children run under `ulimit -n 65536`.
//   npm run bench:hub -- --kiosks 1000,5000,10000 --rtt-kiosks 1000 --commands 20000 --concurrency 32
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Cleanup, guardProcess } from '../lib/cleanup.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

const opts = new Command('bench:hub')
  .option('--kiosks <list>', 'idle kiosk counts to measure', '1000,5000,10000')
  .option('--rtt-kiosks <n>', 'kiosks connected during the round-trip test', '1000')
  .option('--commands <n>', 'command round trips to time', '20000')
  .option('--concurrency <n>', 'commands in flight at once', '32')
  .option('--no-restart', 'skip the restart/reconnect measurement')
  .option('--money <n>', 'deposit top-ups timed at FULL and at NORMAL (0: skip)', '2000')
  .parse(process.argv)
  .opts<{
    kiosks: string;
    rttKiosks: string;
    commands: string;
    concurrency: string;
    restart: boolean;
    money: string;
  }>();

const counts = opts.kiosks
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
const maxKiosks = counts.at(-1)!;
const rttKiosks = Number(opts.rttKiosks);
const log = (s: string) => process.stderr.write(`[bench:hub] ${s}\n`);

type Msg = { type: string; [k: string]: unknown };

class Child {
  private queue: Msg[] = [];
  private wake: (() => void) | undefined;
  readonly exited: Promise<number | null>;
  constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: Msg) => {
      if (m.type === 'error') log(`child error: ${String(m.message)}`);
      this.queue.push(m);
      this.wake?.();
    });
    this.exited = new Promise((r) => proc.on('exit', (code) => r(code)));
  }
  /** Waits for the next message of `type` (bounded). */
  async next(type: string, timeoutMs = 600_000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.queue.findIndex((m) => m.type === type);
      if (i >= 0) return this.queue.splice(i, 1)[0]!;
      if (Date.now() > deadline || this.proc.exitCode !== null) {
        throw new Error(`child ${this.proc.pid} sent no "${type}" (exit ${this.proc.exitCode})`);
      }
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 200);
      });
    }
  }
  ask(msg: Msg, timeoutMs?: number): Promise<Msg> {
    this.proc.send(msg);
    return this.next(msg.type, timeoutMs);
  }
}

function spawnChild(script: string, args: string[], env: Record<string, string> = {}): Child {
  const cmd = `ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec "${process.execPath}" --expose-gc ${process.env.BENCH_HUB_NODE_FLAGS ?? ''} --import tsx "${path.join(here, script)}" ${args.map((a) => `"${a}"`).join(' ')}`;
  const proc = spawn('sh', ['-c', cmd], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Child(proc);
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

async function waitConnected(
  hub: Child,
  load: Child,
  n: number,
  what: string,
  timeoutMs = 120_000,
): Promise<number> {
  const t0 = Date.now();
  let lastPrint = 0;
  for (;;) {
    const s = await load.ask({ type: 'status' });
    const h = await hub.ask({ type: 'stats' });
    if ((s.booted as number) >= n && (h.connected as number) >= n) return Date.now() - t0;
    if (Date.now() - lastPrint > 1000) {
      log(`${what}: ${s.booted}/${n} kiosks booted, hub sessions ${h.connected}`);
      lastPrint = Date.now();
    }
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`${what}: only ${s.booted}/${n} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A signal or a crash stops both children and removes the work dir.
const cleanup = new Cleanup((what, err) => log(`cleanup: ${what}: ${err.message}`));
guardProcess(cleanup, { name: 'bench:hub' });
const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-hub-'));
cleanup.add('work dir', () => rm(dir, { recursive: true, force: true }));
let hub: Child | undefined;
let load: Child | undefined;
cleanup.add('children', async () => {
  load?.proc.kill('SIGKILL');
  if (hub && hub.proc.exitCode === null) hub.proc.kill('SIGTERM');
  await Promise.race([hub?.exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (hub && hub.proc.exitCode === null) hub.proc.kill('SIGKILL');
});
const results: string[] = [];
let exitCode = 0;
try {
  // The money path with its commits synced (synchronous=FULL for them, as the hub runs)
  // and without (NORMAL), each in a fresh hub.
  const money = Number(opts.money);
  if (money > 0) {
    const runs: Record<string, Msg> = {};
    for (const sync of ['on', 'off']) {
      const sub = path.join(dir, `money-${sync}`);
      const h = spawnChild('hub-server.ts', [sub, '0'], { BENCH_HUB_MONEY_SYNC: sync });
      try {
        await h.next('ready', 60_000);
        log(`money path, synced commits ${sync}: ${money} deposit top-ups, 32 renters at once`);
        runs[sync] = await h.ask({ type: 'money', count: money, concurrency: 32 });
        await h.ask({ type: 'stop' }, 60_000);
      } finally {
        if (h.proc.exitCode === null) h.proc.kill('SIGKILL');
      }
    }
    const rate = (m: Msg) => (m.count as number) / (m.seconds as number);
    const full = runs.on!;
    const normal = runs.off!;
    if ((full.synced as number) === 0 || (normal.synced as number) !== 0) {
      exitCode = 1;
      log(
        `synced commits: ${full.synced} with sync on (expected > 0), ${normal.synced} off (expected 0)`,
      );
    }
    const ms = (m: Msg, k: string) => (m[k] as number).toFixed(1);
    results.push(
      `money path (deposit top-ups, 32 at once): synchronous=FULL ${rate(full).toFixed(0)}/s (p50 ${ms(full, 'p50')} ms, p99 ${ms(full, 'p99')} ms, ${full.synced} of ${full.commits} commits synced); ` +
        `NORMAL ${rate(normal).toFixed(0)}/s (p50 ${ms(normal, 'p50')} ms, p99 ${ms(normal, 'p99')} ms); ` +
        `FULL/NORMAL ${(rate(full) / rate(normal)).toFixed(2)}`,
    );
  }

  hub = spawnChild('hub-server.ts', [dir, '0']);
  const ready = await hub.next('ready', 60_000);
  const port = ready.port as number;
  log(`hub pid ${hub.proc.pid} on port ${port}; creating ${maxKiosks} kiosks`);
  await hub.ask({ type: 'createKiosks', count: maxKiosks });
  const file = path.join(dir, 'kiosks.json');
  const base = (await hub.ask({ type: 'stats' })).rss as number;
  log(`idle hub RSS ${mb(base)} MB`);
  load = spawnChild('hub-load.ts', []);
  await load.next('ready', 60_000);
  const url = `ws://127.0.0.1:${port}/kiosk`;

  // Command round trips at rttKiosks connected kiosks.
  await load.ask({ type: 'connect', url, file, count: rttKiosks });
  await waitConnected(hub, load, rttKiosks, 'connecting');
  const ids = Array.from({ length: rttKiosks }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
  log('warming up: 1000 commands');
  await hub.ask({ type: 'rtt', count: 1000, concurrency: Number(opts.concurrency), kiosks: ids });
  log(
    `timing ${opts.commands} command round trips, ${opts.concurrency} in flight, over ${rttKiosks} kiosks`,
  );
  const rtt = await hub.ask({
    type: 'rtt',
    count: Number(opts.commands),
    concurrency: Number(opts.concurrency),
    kiosks: ids,
  });
  const perSec = (rtt.count as number) / (rtt.seconds as number);
  if ((rtt.failed as number) > 0) {
    exitCode = 1;
    log(`${rtt.failed} commands did not complete`);
  }
  results.push(
    `command round trips at ${rttKiosks} kiosks: ${perSec.toFixed(0)}/s (aim >= 2000: ratio ${(perSec / 2000).toFixed(2)}), ` +
      `p50 ${(rtt.p50 as number).toFixed(2)} ms, p99 ${(rtt.p99 as number).toFixed(2)} ms (aim < 50: ratio ${((rtt.p99 as number) / 50).toFixed(2)}), max ${(rtt.max as number).toFixed(1)} ms, failed ${rtt.failed}; hub CPU ${(((rtt.cpuSeconds as number) / (rtt.count as number)) * 1e6).toFixed(0)} µs per command (${(((rtt.cpuSeconds as number) / (rtt.seconds as number)) * 100).toFixed(0)}% of one core)`,
  );

  // Idle memory.
  for (const n of counts) {
    await load.ask({ type: 'connect', url, file, count: n });
    await waitConnected(hub, load, n, `connecting ${n}`);
    await new Promise((r) => setTimeout(r, 2000));
    const st = await hub.ask({ type: 'stats' });
    const rss = st.rss as number;
    const per = (rss - base) / n;
    const line = `${n} idle kiosks: hub RSS ${mb(rss)} MB (${(per / 1024).toFixed(1)} KiB per connection over the idle hub's ${mb(base)} MB)`;
    results.push(
      n === 10_000
        ? `${line}; aim < 300 MB: ratio ${(rss / (300 * 1024 * 1024)).toFixed(2)}`
        : line,
    );
    log(line);
  }

  if (opts.restart) {
    log(`restarting the hub with ${maxKiosks} kiosks connected`);
    const stopAt = Date.now();
    await hub.ask({ type: 'stop' }, 120_000);
    await hub.exited;
    const stopMs = Date.now() - stopAt;
    hub = spawnChild('hub-server.ts', [dir, String(port)]);
    await hub.next('ready', 60_000);
    const upMs = Date.now() - stopAt;
    const took = await waitConnected(hub, load, maxKiosks, 'reconnecting', 180_000);
    await new Promise((r) => setTimeout(r, 1000));
    const s = await load.ask({ type: 'status' });
    const h = await hub.ask({ type: 'stats' });
    const dup =
      (s.replacedCloses as number) > 0 || h.connected !== maxKiosks || s.open !== maxKiosks;
    if (dup) exitCode = 1;
    results.push(
      `restart: graceful stop ${stopMs} ms, new hub up after ${upMs} ms, all ${maxKiosks} kiosks reconnected and booted ${took} ms later (aim <= 60 s: ratio ${(took / 60_000).toFixed(3)}); ` +
        `hub sessions ${h.connected}, kiosk sockets open ${s.open}, replaced (duplicate) sessions ${s.replacedCloses}`,
    );
  }
} catch (err) {
  exitCode = 1;
  log(`failed: ${(err as Error).message}`);
} finally {
  await cleanup.run();
}
process.stdout.write(`\nbench:hub results (${os.cpus().length} cores, node ${process.version})\n`);
for (const r of results) process.stdout.write(`  ${r}\n`);
process.exitCode = exitCode;
