// Hub benchmark (`npm run bench:hub`): cloud-lite hub processes as built (dist/, plain node, no
// tsx) and SEPARATE load processes of simulated kiosks over loopback (hub-load.ts: they talk
// and reconnect as kioskd does; 10,000 kiosks per process), all children under `ulimit -n
// 65536` (or the hard limit). In one run:
//  - the floor: a bare `ws` server (hub-floor.ts) answering the same load process; command
//    round trips per second at the same concurrency, timed before and again after the SQLite
//    process (the load of a shared machine drifts between phases);
//  - the single SQLite process: round trips/s with p50/p99, hub CPU and commits per command (and the
//    ratio to each floor run and to their mean), the idle hub's RSS (after 20 s idle, and just
//    after start) and the RSS at each idle kiosk count, each split into file-backed pages, V8's
//    heap and the rest (malloc), the time for every kiosk to reconnect after a restart; the money path (deposit top-ups) at
//    synchronous=FULL beside NORMAL, each in a fresh hub;
//  - with `--store postgres --hubs N`: N processes on one PostgreSQL (a throw-away cluster with
//    PostgreSQL's durable defaults, or --pg-url): round trips/s (ratio to the SQLite process),
//    p50/p99, CPU per command of each process and of PostgreSQL (and the PostgreSQL floor timed
//    before them, scripts/bench/pg-floor.ts: the same statements and NOTIFYs per command sent
//    by one process that does nothing else, with its ratio to the SQLite process), RSS per idle kiosk with
//    --pg-kiosks idle kiosks across the processes, and the time for all of them to be back
//    after one process is SIGKILLed (after a minute of idle heartbeats), with the heartbeats
//    and Boots that failed and the kiosks turned away busy meanwhile. The survivors hold
//    every kiosk then: where they cannot (the hard limit of open files per process), the
//    recovery is measured at the largest count they can hold, and the bench says so.
//    `--hubs 3` measures 20,000 with two survivors.
// The load average is printed beside the figures: the machine may be shared.
//   npm run bench:hub -- --store postgres --hubs 2
//   npm run bench:hub -- --kiosks 1000,5000,10000 --rtt-kiosks 1000 --commands 20000 --concurrency 32
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { build } from 'esbuild';
import pg from 'pg';
import { Cleanup, guardProcess } from '../lib/cleanup.js';
import { adminQuery, pgBinDir, startCluster, withDatabase } from '../lib/pg-cluster.js';
import { clusterCpuSeconds, type PgFloorStats, pgFloorLine } from './pg-figures.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
/** Where the children are transpiled to: beside the built hub, so their imports reach dist/. */
const childDir = path.join(root, 'dist/scripts/bench');
const CHILDREN = [
  'hub-server.ts',
  'hub-load.ts',
  'hub-floor.ts',
  'round-trips.ts',
  'pg-floor.ts',
  'pg-figures.ts',
];

const opts = new Command('bench:hub')
  .option(
    '--kiosks <list>',
    'idle kiosk counts to measure (single SQLite process)',
    '1000,5000,10000',
  )
  .option('--rtt-kiosks <n>', 'kiosks connected during the round-trip test', '1000')
  .option('--commands <n>', 'command round trips to time', '20000')
  .option('--concurrency <n>', 'commands in flight at once (over all processes)', '32')
  .option('--no-restart', 'skip the restart/reconnect measurement')
  .option('--money <n>', 'deposit top-ups timed at FULL and at NORMAL (0: skip)', '2000')
  .option(
    '--store <kind>',
    'sqlite: the single SQLite process; postgres: also --hubs processes on one PostgreSQL, in the same run',
    'sqlite',
  )
  .option('--hubs <n>', 'hub processes on PostgreSQL', '2')
  .option('--pg-pool <n>', "each PostgreSQL hub process's store.poolSize", '10')
  .option(
    '--no-pg-synced',
    'skip the extra PostgreSQL round-trip row with store.syncBookkeeping true (every commit waiting for the WAL flush; not the default)',
  )
  .option(
    '--pg-kiosks <n>',
    'idle kiosks across the PostgreSQL processes (the recovery after the SIGKILL: as many as the survivors can hold under the open-file limit, printed)',
    '20000',
  )
  .option(
    '--pg-setting <name=value>',
    'a server setting of the throw-away cluster (repeatable), e.g. max_connections=200; printed with the figures',
    (v: string, acc: string[]) => [...acc, v],
    [] as string[],
  )
  .option(
    '--pg-url <url>',
    'a PostgreSQL server whose role may CREATE DATABASE (default: a throw-away cluster with durable settings)',
  )
  .option(
    '--pg-only',
    "with --store postgres: time the PostgreSQL processes' command round trips only (no ws floor, SQLite process, money path, synced row, idle kiosks or SIGKILL; no ratio to SQLite)",
  )
  .option(
    '--no-pg-floor',
    "with --store postgres: skip the PostgreSQL floor (scripts/bench/pg-floor.ts: the hubs' statements and NOTIFYs per command alone, timed before the hubs)",
  )
  .option('--no-build', 'use dist/ as it is (default: tsc -p tsconfig.build.json first)')
  .option(
    '--alerts-sweep-seconds <s>',
    "the hubs' alerts sweep interval (default the hub's 15 s; each sweep reads every booted kiosk's slots and events)",
  )
  .parse(process.argv)
  .opts<{
    kiosks: string;
    rttKiosks: string;
    commands: string;
    concurrency: string;
    restart: boolean;
    money: string;
    store: string;
    hubs: string;
    pgKiosks: string;
    pgUrl?: string;
    pgSetting: string[];
    pgPool: string;
    pgSynced: boolean;
    pgOnly?: boolean;
    pgFloor: boolean;
    build: boolean;
    alertsSweepSeconds?: string;
  }>();
if (opts.alertsSweepSeconds)
  process.env.BENCH_HUB_ALERTS_SWEEP_MS = String(Number(opts.alertsSweepSeconds) * 1000);
if (opts.store !== 'sqlite' && opts.store !== 'postgres') {
  process.stderr.write(`bench:hub: --store is sqlite or postgres, not "${opts.store}"\n`);
  process.exit(2);
}
if (opts.pgOnly && opts.store !== 'postgres') {
  process.stderr.write('bench:hub: --pg-only needs --store postgres\n');
  process.exit(2);
}

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
  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on('message', (m: Msg) => {
      if (m.type === 'error') log(`${name}: child error: ${String(m.message)}`);
      if (m.type === 'progress') {
        log(`${name}: ${m.done}/${m.of} round trips`);
        return;
      }
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
      if (Date.now() > deadline || this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(
          `${this.name} (pid ${this.proc.pid}) sent no "${type}" (exit ${this.proc.exitCode})`,
        );
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
  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }
}

// A signal or a crash stops every child and removes the work dir.
const cleanup = new Cleanup((what, err) => log(`cleanup: ${what}: ${err.message}`));
guardProcess(cleanup, { name: 'bench:hub' });
const children = new Set<Child>();
cleanup.add('children', async () => {
  const alive = [...children].filter((c) => c.alive);
  for (const c of alive) c.proc.kill('SIGTERM');
  await Promise.race([
    Promise.all(alive.map((c) => c.exited)),
    new Promise((r) => setTimeout(r, 10_000)),
  ]);
  for (const c of alive) if (c.alive) c.proc.kill('SIGKILL');
});

const HUB_UNIT = readFileSync(path.join(root, 'deploy/systemd/cloud-lite.service'), 'utf8');

/**
 * The node flags production runs the hub with (deploy/systemd/cloud-lite.service's ExecStart):
 * the hub processes here run with them too.
 */
const HUB_NODE_FLAGS = (() => {
  const m = /^ExecStart=\S*node((?: --\S+)*) \S*cloud-lite\.js /m.exec(HUB_UNIT);
  if (!m)
    throw new Error('deploy/systemd/cloud-lite.service has no ExecStart=node ... cloud-lite.js');
  return m[1]!.trim();
})();

/**
 * The environment production runs the hub with (the unit's Environment= lines: NAME=value
 * pairs separated by spaces, unquoted): the hub processes here get it too, over the bench's own.
 * EnvironmentFile= (the operator's secrets) is not read.
 */
const HUB_ENV = (() => {
  const env: Record<string, string> = {};
  for (const [, line] of HUB_UNIT.matchAll(/^Environment=(.*)$/gm)) {
    for (const pair of line!.trim().split(/\s+/)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'\\]*)$/.exec(pair);
      if (!m)
        throw new Error(
          `deploy/systemd/cloud-lite.service: Environment=${line}: only unquoted NAME=value pairs are read here`,
        );
      env[m[1]!] = m[2]!;
    }
  }
  return env;
})();

/** A child script from `childDir`, run by plain node (no tsx), with a raised file limit. */
function spawnChild(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Child {
  const file = path.join(childDir, script.replace(/\.ts$/, '.js'));
  const hub = script === 'hub-server.ts';
  const hubFlags = hub ? HUB_NODE_FLAGS : '';
  const cmd = `ulimit -n 65536 2>/dev/null || ulimit -n $(ulimit -Hn); exec "${process.execPath}" --expose-gc ${hubFlags} ${process.env.BENCH_HUB_NODE_FLAGS ?? ''} "${file}" ${args.map((a) => `"${a}"`).join(' ')}`;
  const proc = spawn('sh', ['-c', cmd], {
    cwd: root,
    env: { ...process.env, ...(hub ? HUB_ENV : {}), ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const child = new Child(name, proc);
  children.add(child);
  void child.exited.then(() => children.delete(child));
  return child;
}

async function stopChild(c: Child | undefined): Promise<void> {
  if (!c?.alive) return;
  c.proc.send({ type: c.name.startsWith('load') ? 'exit' : 'stop' });
  await Promise.race([c.exited, new Promise((r) => setTimeout(r, 60_000))]);
  if (c.alive) c.proc.kill('SIGKILL');
  await c.exited;
}

const mb = (b: number) => (b / 1024 / 1024).toFixed(1);

/**
 * Where a hub's RSS is (hub-server.ts memory(), after the full GC of a 'stats'): resident pages
 * mapped from files (node's binary, libraries), V8's heap (committed, and live after the GC),
 * and the rest of the anonymous pages (malloc: sockets' native parts, buffers, SQLite, and
 * freed memory glibc keeps).
 */
function breakdown(m: Msg): string {
  const mem = m.memory as Record<string, number> | undefined;
  if (!mem?.['smaps.Anonymous']) return '';
  const anon = mem['smaps.Anonymous'];
  return ` [file-backed ${mb(mem.rss! - anon)} MB, V8 heap ${mb(mem.heapTotal!)} MB committed (${mb(mem.heapUsed!)} MB live; new space ${mb(mem['new_space.size'] ?? 0)} MB), other anonymous (malloc) ${mb(anon - mem.heapTotal!)} MB]`;
}
const ms = (m: Msg, k: string) => (m[k] as number).toFixed(2);
const load1 = () =>
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`;
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/**
 * The kernel's count of connections dropped because a listening socket's backlog was full
 * (TcpExt ListenOverflows, for the whole machine: read before and after a storm). A dropped
 * SYN is retried by the kiosk's TCP only after 1 s, then 3 s, 7 s...
 */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith('TcpExt:') || !lines[i + 1]!.startsWith('TcpExt:')) continue;
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    const at = names.indexOf('ListenOverflows');
    if (at > 0) return Number(values[at]);
  }
  return Number.NaN;
}

/**
 * How long the SQLite hub stays idle before its idle RSS is read: V8's memory reducer shrinks
 * the heap grown during start-up once allocation has stayed low for a while (~10 s after
 * start on the machine of 2026-12-07).
 */
const IDLE_SETTLE_MS = 20_000;

/** Simulated kiosks per load process: their sockets stay well under the per-process file limit. */
let KIOSKS_PER_LOAD = 10_000;

/**
 * The simulated kiosks, over as many load processes (hub-load.ts) as the count needs
 * (KIOSKS_PER_LOAD each: one process cannot hold 20,000 sockets under a hard limit of 20,000
 * open files): kiosk i is in process floor(i / KIOSKS_PER_LOAD).
 */
class LoadGroup {
  private readonly procs: Child[] = [];

  /** Starts (and connects) the kiosks [0, count) not started yet. */
  async connect(urls: string[], file: string, count: number): Promise<void> {
    for (let k = 0; k * KIOSKS_PER_LOAD < count; k++) {
      if (!this.procs[k]) {
        const c = spawnChild(`load ${k + 1}`, 'hub-load.ts', []);
        await c.next('ready', 60_000);
        this.procs[k] = c;
      }
      const from = k * KIOSKS_PER_LOAD;
      await this.procs[k]!.ask(
        { type: 'connect', urls, file, from, to: Math.min(count, from + KIOSKS_PER_LOAD) },
        600_000,
      );
    }
  }

  /** Closes the kiosks of index >= `below` for good (no reconnect). */
  async drop(below: number): Promise<void> {
    for (const c of this.procs) await c.ask({ type: 'drop', below });
  }

  /** Every process's status, counts summed. */
  async status(): Promise<Record<string, number>> {
    const sum: Record<string, number> = {};
    for (const c of this.procs) {
      const st = await c.ask({ type: 'status' });
      for (const [k, v] of Object.entries(st))
        if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v;
    }
    return sum;
  }

  get processes(): number {
    return this.procs.length;
  }

  async stop(): Promise<void> {
    for (const c of this.procs) await stopChild(c);
  }
}

/** Waits until the load processes have `n` kiosks booted and the servers `n` sessions between them. */
async function waitConnected(
  servers: Child[],
  load: LoadGroup,
  n: number,
  what: string,
  timeoutMs = 120_000,
): Promise<number> {
  const t0 = Date.now();
  let lastPrint = 0;
  for (;;) {
    const s = await load.status();
    let connected = 0;
    for (const h of servers)
      connected += (await h.ask({ type: 'stats', rss: false })).connected as number;
    if ((s.booted ?? 0) >= n && connected >= n) return Date.now() - t0;
    if (Date.now() - lastPrint > 1000) {
      log(`${what}: ${s.booted}/${n} kiosks booted, sessions ${connected}`);
      lastPrint = Date.now();
    }
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`${what}: only ${s.booted}/${n} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** What the simulated kiosks saw go wrong so far (heartbeats and Boots failed, busy hubs). */
function troubles(st: Record<string, number>): string {
  const hbFailed = st.heartbeatsFailed ?? 0;
  const busy = (st.busyCloses ?? 0) + (st.busyUpgrades ?? 0);
  return (
    `heartbeats failed ${hbFailed} of ${hbFailed + (st.heartbeatsOk ?? 0)}, ` +
    `Boots without an accepted answer ${st.bootsFailed ?? 0}, Inventories failed ${st.inventoriesFailed ?? 0}, ` +
    `turned away busy ${busy} (1013 closes ${st.busyCloses ?? 0}, 503 upgrades ${st.busyUpgrades ?? 0})`
  );
}

/**
 * Round trips timed on each server at once (count and concurrency split between them, every
 * server over all `ids`), merged: rate over the slowest one's time, quantiles of all.
 */
async function roundTrips(
  servers: Child[],
  ids: string[],
  count: number,
  concurrency: number,
): Promise<{
  perSec: number;
  count: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  seconds: number;
  cpu: number[];
  /** Per process: what the commands cost it (hub-server.ts 'rtt': round trips, commits, ...). */
  cost: Record<string, number>[];
}> {
  const parts = await Promise.all(
    servers.map((h, i) =>
      h.ask({
        type: 'rtt',
        count: Math.round(count / servers.length),
        concurrency: Math.max(1, Math.round(concurrency / servers.length)),
        kiosks: ids,
        offset: Math.floor((i * ids.length) / servers.length),
      }),
    ),
  );
  const lat = parts.flatMap((p) => p.latencies as number[]).sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
  const seconds = Math.max(...parts.map((p) => p.seconds as number));
  const failed = parts.reduce((n, p) => n + (p.failed as number), 0);
  return {
    perSec: lat.length / seconds,
    count: lat.length,
    failed,
    p50: q(0.5),
    p99: q(0.99),
    max: lat.at(-1) ?? Number.NaN,
    seconds,
    cpu: parts.map((p) => p.cpuSeconds as number),
    cost: parts.map((p) => (p.cost ?? {}) as Record<string, number>),
  };
}

/**
 * Per command, over all processes: round trips to PostgreSQL (each process's), commits (how
 * many waited for the WAL's flush), NOTIFY queries and the messages they carried.
 */
function costLine(r: { count: number; cost: Record<string, number>[] }): string {
  const per = (k: string) => r.cost.map((c) => (c[k] ?? 0) / r.count);
  const sum = (k: string) => per(k).reduce((a, b) => a + b, 0);
  const f = (n: number) => n.toFixed(2);
  return (
    `per command: ${f(sum('roundTrips'))} round trips to PostgreSQL (${per('roundTrips')
      .map((n, i) => `process ${i + 1} ${f(n)}`)
      .join(
        ', ',
      )}), ${f(sum('commits'))} commits (${f(sum('synced'))} waiting for the WAL flush), ` +
    `${f(sum('notifies'))} NOTIFY queries carrying ${f(sum('messages'))} messages`
  );
}

/** The GC pauses of the timed commands (hub-server.ts gcPauses), per command, over all processes. */
function gcLine(r: { count: number; cost: Record<string, number>[] }): string {
  const sum = (k: string) => r.cost.reduce((a, c) => a + (c[k] ?? 0), 0);
  const us = (k: string) => ((sum(k) / r.count) * 1000).toFixed(1);
  return `GC pauses ${us('minorMs')} µs young (${sum('minor')} scavenges) + ${us('majorMs')} µs full (${sum('major')} mark-compacts) per command`;
}

/**
 * The server's version, its durability settings, and every setting the bench or its
 * configuration changed from PostgreSQL's built-in default (what the figures depend on).
 */
async function serverSettings(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
       WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')
          OR (source NOT IN ('default', 'override', 'client', 'session')
              AND name NOT IN ('listen_addresses', 'unix_socket_directories', 'config_file',
                'data_directory', 'hba_file', 'ident_file', 'lc_messages', 'lc_monetary',
                'lc_numeric', 'lc_time', 'log_timezone', 'TimeZone', 'default_text_search_config',
                'dynamic_shared_memory_type', 'DateStyle'))
       ORDER BY name`,
    );
    const v = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v"))
      .rows[0]?.v;
    const list = rows.map((r) => `${r.name}=${r.setting}${r.unit ? ` (${r.unit})` : ''}`);
    return `version ${v}; ${list.join(', ')}`;
  } finally {
    await c.end();
  }
}

const results: string[] = [];
/** A result line: kept for the summary and shown at once (a run stopped early keeps what it measured). */
const report = (line: string) => {
  results.push(line);
  log(`result: ${line}`);
};
let exitCode = 0;
const fail = (why: string) => {
  exitCode = 1;
  log(why);
};
// Every socket is a descriptor under the children's `ulimit -n`, which cannot exceed the hard
// limit without CAP_SYS_RESOURCE (20,000 per process on the machine of 2026-12-06). The kiosks
// are spread over load processes (KIOSKS_PER_LOAD each); the single SQLite hub holds all of its
// kiosks, and each of the N PostgreSQL processes about 1/N of them: refused up front when one
// of those cannot fit. After the SIGKILL the survivors would hold every kiosk: the recovery is
// measured at the largest count they can hold (printed as such), the rest closed before the kill.
const hardFiles = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim());
/** Sockets one process may hold beside its other files. */
const room = Number.isFinite(hardFiles) ? hardFiles - 500 : Number.POSITIVE_INFINITY;
KIOSKS_PER_LOAD = Math.min(KIOSKS_PER_LOAD, room);
{
  const single = Math.max(maxKiosks, rttKiosks);
  const perPgHub =
    opts.store === 'postgres'
      ? Math.ceil(Number(opts.pgKiosks) / Math.max(1, Number(opts.hubs)))
      : 0;
  if (single > room || perPgHub > room) {
    process.stderr.write(
      `bench:hub: ${single > room ? `${single} kiosks on the SQLite process` : `${perPgHub} kiosks on each PostgreSQL process`} need more open files than the hard limit allows (ulimit -Hn ${hardFiles}; ` +
        'a hub holds one socket per kiosk): raise the hard limit ' +
        `(as root with CAP_SYS_RESOURCE, or LimitNOFILE=) or ask for at most ${room} kiosks per process\n`,
    );
    process.exit(2);
  }
}
const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-hub-'));
cleanup.add('work dir', () => rm(dir, { recursive: true, force: true }));
try {
  if (opts.build) {
    log('building dist/ (tsc -p tsconfig.build.json)');
    const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${r.status})`);
  }
  await build({
    entryPoints: CHILDREN.map((f) => path.join(here, f)),
    outdir: childDir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  const pg = opts.store === 'postgres';
  const hubCount = pg ? Math.max(1, Number(opts.hubs)) : 0;
  const pgKiosks = pg && !opts.pgOnly ? Number(opts.pgKiosks) : 0;
  // The kiosks' credentials, shared by every hub of the run and the load process.
  const file = path.join(dir, 'kiosks.json');
  const allKiosks = Math.max(maxKiosks, rttKiosks, pgKiosks);
  writeFileSync(
    file,
    JSON.stringify(
      Array.from({ length: allKiosks }, (_, i) => ({
        kioskId: `bench-${String(i).padStart(5, '0')}`,
        secret: randomBytes(32).toString('base64url'),
      })),
    ),
  );
  const ids = Array.from({ length: rttKiosks }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
  const commands = Number(opts.commands);
  const concurrency = Number(opts.concurrency);
  report(
    `${load1()} at the start (${os.cpus().length} cores shared with other users); alerts sweep every ${opts.alertsSweepSeconds ?? 15} s; hubs run with node ${HUB_NODE_FLAGS || '(no flags)'} and ${Object.entries(
      HUB_ENV,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} as deploy/systemd/cloud-lite.service runs them`,
  );

  // The money path with its commits synced (synchronous=FULL for them, as the hub runs)
  // and without (NORMAL), each in a fresh hub.
  const money = opts.pgOnly ? 0 : Number(opts.money);
  if (money > 0) {
    const runs: Record<string, Msg> = {};
    for (const sync of ['on', 'off']) {
      const sub = path.join(dir, `money-${sync}`);
      const h = spawnChild(`money hub (sync ${sync})`, 'hub-server.ts', [sub, '0'], {
        BENCH_HUB_MONEY_SYNC: sync,
      });
      await h.next('ready', 60_000);
      log(`money path, synced commits ${sync}: ${money} deposit top-ups, 32 renters at once`);
      runs[sync] = await h.ask({ type: 'money', count: money, concurrency: 32 });
      await stopChild(h);
    }
    const rate = (m: Msg) => (m.count as number) / (m.seconds as number);
    const full = runs.on!;
    const normal = runs.off!;
    if ((full.synced as number) === 0 || (normal.synced as number) !== 0)
      fail(
        `synced commits: ${full.synced} with sync on (expected > 0), ${normal.synced} off (expected 0)`,
      );
    report(
      `money path (deposit top-ups, 32 at once): synchronous=FULL ${rate(full).toFixed(0)}/s (p50 ${ms(full, 'p50')} ms, p99 ${ms(full, 'p99')} ms, ${full.synced} of ${full.commits} commits synced); ` +
        `NORMAL ${rate(normal).toFixed(0)}/s (p50 ${ms(normal, 'p50')} ms, p99 ${ms(normal, 'p99')} ms); ` +
        `FULL/NORMAL ${(rate(full) / rate(normal)).toFixed(2)}; ${load1()}`,
    );
  }

  // The floor: a bare ws server answering the same load process at the same concurrency,
  // timed before the SQLite process and again after it (the machine's load may change between
  // the phases: the SQLite ratio is given against each and against their mean).
  const timeFloor = async (when: string): Promise<number> => {
    const floor = spawnChild('floor', 'hub-floor.ts', ['0']);
    const { port } = await floor.next('ready', 60_000);
    const floorIdle = (await floor.ask({ type: 'stats' })).rss as number;
    const load = new LoadGroup();
    await load.connect([`ws://127.0.0.1:${port}/kiosk`], file, rttKiosks);
    await waitConnected([floor], load, rttKiosks, 'floor: connecting');
    if (when === 'before') {
      // What a bare ws connection costs the server: the part of the hub's per-kiosk figure no
      // hub code can remove.
      await sleep(2000);
      const floorRss = (await floor.ask({ type: 'stats' })).rss as number;
      report(
        `floor (bare ws server): idle RSS ${mb(floorIdle)} MB, ${rttKiosks} idle connections ${mb(floorRss)} MB (${((floorRss - floorIdle) / rttKiosks / 1024).toFixed(1)} KiB per connection)`,
      );
    }
    log(`floor (${when} the SQLite process): warming up, 1000 round trips`);
    await roundTrips([floor], ids, 1000, concurrency);
    log(
      `floor (${when} the SQLite process): timing ${commands} round trips, ${concurrency} in flight`,
    );
    const r = await roundTrips([floor], ids, commands, concurrency);
    if (r.failed > 0) fail(`floor: ${r.failed} round trips failed`);
    report(
      `floor (bare ws server, same load process), ${when} the SQLite process, at ${rttKiosks} kiosks: ${r.perSec.toFixed(0)} round trips/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms; server CPU ${((r.cpu[0]! / r.count) * 1e6).toFixed(0)} µs per round trip; ${load1()}`,
    );
    await load.stop();
    await stopChild(floor);
    return r.perSec;
  };
  const floorBefore = opts.pgOnly ? Number.NaN : await timeFloor('before');
  let floorRate = floorBefore;

  // The single SQLite process.
  let sqliteRate = Number.NaN;
  if (!opts.pgOnly) {
    const sub = path.join(dir, 'sqlite');
    let hub = spawnChild('sqlite hub', 'hub-server.ts', [sub, '0']);
    const { port } = await hub.next('ready', 60_000);
    // The idle hub as it runs: V8's memory reducer gives back the young generation grown during
    // start-up and the old space's slack once allocation has stayed low for a while (~10 s after
    // start here). Read just after start (no forced GC, which would start that clock), then after
    // IDLE_SETTLE_MS of idleness (after a full GC, as every RSS below).
    const started = await hub.ask({ type: 'memory' });
    log(`SQLite hub pid ${hub.proc.pid} on port ${port}: ${IDLE_SETTLE_MS / 1000} s idle`);
    await sleep(IDLE_SETTLE_MS);
    const idle = await hub.ask({ type: 'stats' });
    const base = idle.rss as number;
    log(`SQLite hub: idle RSS ${mb(base)} MB; adding ${maxKiosks} kiosks`);
    report(
      `SQLite, 1 process: idle hub RSS ${mb(base)} MB after ${IDLE_SETTLE_MS / 1000} s idle (aim < 80 MB: ratio ${(base / (80 * 1024 * 1024)).toFixed(2)})${breakdown(idle)}; ` +
        `${mb(started.rss as number)} MB just after start${breakdown({ type: 'memory', memory: started })}`,
    );
    await hub.ask({ type: 'importKiosks', file, count: Math.max(maxKiosks, rttKiosks) }, 300_000);
    const load = new LoadGroup();
    const urls = [`ws://127.0.0.1:${port}/kiosk`];
    await load.connect(urls, file, rttKiosks);
    await waitConnected([hub], load, rttKiosks, 'SQLite: connecting');
    log('SQLite: warming up, 1000 commands');
    await roundTrips([hub], ids, 1000, concurrency);
    log(
      `SQLite: timing ${commands} command round trips, ${concurrency} in flight, over ${rttKiosks} kiosks`,
    );
    const r = await roundTrips([hub], ids, commands, concurrency);
    sqliteRate = r.perSec;
    if (r.failed > 0) fail(`SQLite: ${r.failed} commands did not complete`);
    report(
      `SQLite, 1 process: command round trips at ${rttKiosks} kiosks: ${r.perSec.toFixed(0)}/s (ratio to the floor timed before it ${(r.perSec / floorRate).toFixed(2)}; against both floor runs below), ` +
        `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (aim < 50: ratio ${(r.p99 / 50).toFixed(2)}), max ${r.max.toFixed(1)} ms, failed ${r.failed}; ` +
        `hub CPU ${((r.cpu[0]! / r.count) * 1e6).toFixed(0)} µs per command (${((r.cpu[0]! / r.seconds) * 100).toFixed(0)}% of one core; ${gcLine(r)}; ` +
        // Commits are shared by the commands of a turn of the event loop: fewer per command on a
        // busier machine (more answers read per turn), so the CPU per command depends on the load.
        `${((r.cost[0]?.commits ?? 0) / r.count).toFixed(3)} commits per command); ${load1()}`,
    );
    for (const n of counts) {
      await load.connect(urls, file, n);
      await waitConnected([hub], load, n, `SQLite: connecting ${n}`, 900_000);
      await sleep(2000);
      const st = await hub.ask({ type: 'stats' });
      const rss = st.rss as number;
      const line = `SQLite, 1 process: ${n} idle kiosks: hub RSS ${mb(rss)} MB (${((rss - base) / n / 1024).toFixed(1)} KiB per kiosk over the idle hub's ${mb(base)} MB)${breakdown(st)}`;
      report(
        n === 10_000
          ? `${line}; aim < 150 MB: ratio ${(rss / (150 * 1024 * 1024)).toFixed(2)}`
          : line,
      );
    }
    if (opts.restart) {
      log(`SQLite: restarting the hub with ${maxKiosks} kiosks connected`);
      const overflowsBefore = listenOverflows();
      const stopAt = Date.now();
      await stopChild(hub);
      const stopMs = Date.now() - stopAt;
      hub = spawnChild('sqlite hub', 'hub-server.ts', [sub, String(port)]);
      await hub.next('ready', 60_000);
      const upMs = Date.now() - stopAt;
      const took = await waitConnected([hub], load, maxKiosks, 'SQLite: reconnecting', 180_000);
      await sleep(1000);
      const st = await load.status();
      const h = await hub.ask({ type: 'stats' });
      if ((st.replacedCloses as number) > 0 || h.connected !== maxKiosks || st.open !== maxKiosks)
        exitCode = 1;
      report(
        `SQLite, 1 process: restart: graceful stop ${stopMs} ms, new hub up after ${upMs} ms, all ${maxKiosks} kiosks reconnected and booted ${took} ms later (aim <= 60 s: ratio ${(took / 60_000).toFixed(3)}); ` +
          `hub sessions ${h.connected}, kiosk sockets open ${st.open}, replaced (duplicate) sessions ${st.replacedCloses}; connections dropped on a full listen backlog (the machine's TcpExt ListenOverflows) ${listenOverflows() - overflowsBefore}; ${load1()}`,
      );
    }
    await load.stop();
    await stopChild(hub);
  }

  if (!opts.pgOnly) {
    const floorAfter = await timeFloor('after');
    floorRate = (floorBefore + floorAfter) / 2;
    report(
      `SQLite, 1 process: ${sqliteRate.toFixed(0)} round trips/s against the floor timed before it ${floorBefore.toFixed(0)}/s (ratio ${(sqliteRate / floorBefore).toFixed(2)}) and after it ${floorAfter.toFixed(0)}/s (ratio ${(sqliteRate / floorAfter).toFixed(2)}): ratio to their mean ${(sqliteRate / floorRate).toFixed(2)} (aim >= 0.5); ${load1()}`,
    );
  }

  // N hub processes on one PostgreSQL.
  if (pg) {
    let server = opts.pgUrl;
    let dataDir: string | undefined;
    if (!server) {
      const bin = pgBinDir();
      if (!bin)
        throw new Error(
          'PostgreSQL is not installed (no initdb): scripts/setup.sh installs postgresql-15, or pass --pg-url',
        );
      log(
        'starting a throw-away PostgreSQL cluster (durable settings: fsync, synchronous commits)',
      );
      const settings: Record<string, string> = {};
      for (const kv of opts.pgSetting) {
        const m = /^([a-z_]+)=(.+)$/.exec(kv);
        if (!m) throw new Error(`--pg-setting ${kv}: expected name=value`);
        settings[m[1]!] = m[2]!;
      }
      const cluster = startCluster(bin, { durable: true, settings });
      cleanup.add('PostgreSQL cluster', () => cluster.stop());
      server = cluster.adminUrl;
      dataDir = path.join(cluster.dir, 'data');
    }
    report(
      `PostgreSQL server: ${await serverSettings(server)}; each hub process: store.poolSize ${opts.pgPool} (+2 cluster connections)`,
    );
    const admin = server;
    let pgFloorRate: number | undefined;
    if (opts.pgFloor) {
      // The PostgreSQL floor (pg-floor.ts): the hubs' statements per command and nothing else,
      // on a database of its own, before the hubs start.
      const floorDb = `bench_floor_${process.pid}`;
      await adminQuery(server, `CREATE DATABASE ${floorDb}`);
      if (opts.pgUrl)
        cleanup.add('PostgreSQL floor database', () =>
          adminQuery(admin, `DROP DATABASE IF EXISTS ${floorDb}`),
        );
      log(`PostgreSQL floor: timing ${commands} commands, ${concurrency} in flight`);
      const f = spawnChild('pg floor', 'pg-floor.ts', []);
      await f.next('ready', 60_000);
      const r = (await f.ask(
        {
          type: 'rtt',
          url: withDatabase(server, floorDb),
          count: commands,
          concurrency,
          kiosks: rttKiosks,
          hubs: hubCount,
          poolSize: Number(opts.pgPool),
          dataDir,
        },
        600_000,
      )) as unknown as PgFloorStats;
      await f.exited;
      pgFloorRate = r.count / r.seconds;
      report(
        `PostgreSQL floor (scripts/bench/pg-floor.ts: ${hubCount} stores and cluster connections in one process sending only the hubs' statements and NOTIFYs per command, no kiosks; the most the hubs could do on this server): ${pgFloorLine(r)}; ${sqliteRate > 0 ? `ratio to the SQLite process ${(pgFloorRate / sqliteRate).toFixed(2)}; ` : ''}${load1()}`,
      );
    }
    const db = `bench_hub_${process.pid}`;
    await adminQuery(server, `CREATE DATABASE ${db}`);
    if (opts.pgUrl)
      cleanup.add('PostgreSQL database', () => adminQuery(admin, `DROP DATABASE IF EXISTS ${db}`));
    const url = withDatabase(server, db);
    const sub = path.join(dir, 'postgres');
    const hubs: Child[] = [];
    const ports: number[] = [];
    /** Starts the N processes (again on `ports` once they are known), one after another. */
    const startHubs = async (env: Record<string, string> = {}) => {
      for (let i = 0; i < hubCount; i++) {
        // One after another: the first migrates the database and writes the shared signing key.
        const h = spawnChild(`pg hub ${i + 1}`, 'hub-server.ts', [sub, String(ports[i] ?? 0)], {
          BENCH_HUB_PG_URL: url,
          BENCH_HUB_PG_POOL_SIZE: opts.pgPool,
          ...env,
        });
        ports[i] = (await h.next('ready', 120_000)).port as number;
        hubs[i] = h;
      }
    };
    await startHubs();
    const bases: number[] = [];
    for (const h of hubs) bases.push((await h.ask({ type: 'stats' })).rss as number);
    log(
      `PostgreSQL: ${hubCount} hub processes up (idle RSS ${bases.map(mb).join(', ')} MB); adding ${pgKiosks} kiosks`,
    );
    await hubs[0]!.ask(
      { type: 'importKiosks', file, count: Math.max(pgKiosks, rttKiosks) },
      600_000,
    );
    const load = new LoadGroup();
    const urls = ports.map((p) => `ws://127.0.0.1:${p}/kiosk`);
    await load.connect(urls, file, rttKiosks);
    await waitConnected(hubs, load, rttKiosks, 'PostgreSQL: connecting');
    log(`PostgreSQL: warming up, 1000 commands`);
    await roundTrips(hubs, ids, 1000, concurrency);
    log(
      `PostgreSQL: timing ${commands} command round trips, ${concurrency} in flight over ${hubCount} processes (each sends to every kiosk: most cross processes)`,
    );
    const pg0 = dataDir ? clusterCpuSeconds(dataDir) : undefined;
    const r = await roundTrips(hubs, ids, commands, concurrency);
    const pg1 = dataDir ? clusterCpuSeconds(dataDir) : undefined;
    if (r.failed > 0) fail(`PostgreSQL: ${r.failed} commands did not complete`);
    const perCmd = (cpu: number) => `${((cpu / r.count) * 1e6).toFixed(0)} µs`;
    const hubCpu = r.cpu.reduce((a, b) => a + b, 0);
    report(
      `PostgreSQL, ${hubCount} processes (default: store.syncBookkeeping false, money/stock/events synced): command round trips at ${rttKiosks} kiosks: ${r.perSec.toFixed(0)}/s (${opts.pgOnly ? 'SQLite process and floor not timed: --pg-only' : `ratio to the SQLite process ${(r.perSec / sqliteRate).toFixed(2)}, aim >= 0.8; ratio to the floors' mean ${(r.perSec / floorRate).toFixed(2)}`}${pgFloorRate ? `; ratio to the PostgreSQL floor ${(r.perSec / pgFloorRate).toFixed(2)}` : ''}), ` +
        `p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms (aim < 50: ratio ${(r.p99 / 50).toFixed(2)}), max ${r.max.toFixed(1)} ms, failed ${r.failed}; ` +
        `CPU per command: ${r.cpu.map((c, i) => `process ${i + 1} ${perCmd(c)} (${((c / r.seconds) * 100).toFixed(0)}% of a core)`).join(', ')}, hubs together ${perCmd(hubCpu)}` +
        `${pg0 !== undefined && pg1 !== undefined ? `, PostgreSQL ${perCmd(pg1 - pg0)} (${(((pg1 - pg0) / r.seconds) * 100).toFixed(0)}% of a core)` : ''}; ${costLine(r)}; ${load1()}`,
    );
    if (opts.pgSynced && !opts.pgOnly) {
      // The same with every commit waiting for the WAL's flush (store.syncBookkeeping true, not
      // the default): a separate row, then the processes are restarted with the defaults.
      const restart = async (env: Record<string, string>, what: string) => {
        for (const h of hubs) await stopChild(h);
        await startHubs(env);
        await waitConnected(hubs, load, rttKiosks, what, 300_000);
      };
      await restart({ BENCH_HUB_PG_SYNC_BOOKKEEPING: 'on' }, 'PostgreSQL (synced): connecting');
      await roundTrips(hubs, ids, 1000, concurrency);
      log(`PostgreSQL, every commit synced: timing ${commands} command round trips`);
      const s0 = dataDir ? clusterCpuSeconds(dataDir) : undefined;
      const u = await roundTrips(hubs, ids, commands, concurrency);
      const s1 = dataDir ? clusterCpuSeconds(dataDir) : undefined;
      if (u.failed > 0) fail(`PostgreSQL (synced): ${u.failed} commands did not complete`);
      const perU = (cpu: number) => `${((cpu / u.count) * 1e6).toFixed(0)} µs`;
      report(
        `PostgreSQL, ${hubCount} processes, NOT THE DEFAULT: store.syncBookkeeping true (every commit waits for the WAL flush, Boots, heartbeats, online marks and commands recorded/sent/answered too): ` +
          `command round trips at ${rttKiosks} kiosks: ${u.perSec.toFixed(0)}/s (ratio to the SQLite process ${(u.perSec / sqliteRate).toFixed(2)}), p50 ${u.p50.toFixed(2)} ms, p99 ${u.p99.toFixed(2)} ms (ratio to 50: ${(u.p99 / 50).toFixed(2)}), max ${u.max.toFixed(1)} ms, failed ${u.failed}; ` +
          `CPU per command: hubs together ${perU(u.cpu.reduce((a, b) => a + b, 0))}${s0 !== undefined && s1 !== undefined ? `, PostgreSQL ${perU(s1 - s0)}` : ''}; ${costLine(u)}; ${load1()}`,
      );
      await restart({}, 'PostgreSQL (defaults again): connecting');
    }
    if (!opts.pgOnly) {
      await load.connect(urls, file, pgKiosks);
      await waitConnected(hubs, load, pgKiosks, `PostgreSQL: connecting ${pgKiosks}`, 1_800_000);
      await sleep(2000);
      const held: number[] = [];
      const parts: string[] = [];
      for (const [i, h] of hubs.entries()) {
        const st = await h.ask({ type: 'stats' });
        const rss = st.rss as number;
        const n = st.connected as number;
        held.push(n);
        parts.push(
          `process ${i + 1} ${n} kiosks, RSS ${mb(rss)} MB (${((rss - bases[i]!) / Math.max(1, n) / 1024).toFixed(1)} KiB per kiosk over its idle ${mb(bases[i]!)} MB)${breakdown(st)}`,
        );
      }
      report(
        `PostgreSQL, ${hubCount} processes: ${pgKiosks} idle kiosks: ${parts.join('; ')}; ${load1()}`,
      );
      report(
        `PostgreSQL, ${hubCount} processes: while ${pgKiosks} kiosks connected (${load.processes} load processes): ${troubles(await load.status())}`,
      );
      if (hubCount > 1) {
        const victim = hubs.length - 1;
        const survivors = hubs.slice(0, victim);
        // The survivors take every kiosk: at most `room` sockets each (see the refusal above).
        let back = pgKiosks;
        if (Math.ceil(pgKiosks / survivors.length) > room) {
          back = room * survivors.length;
          report(
            `PostgreSQL, ${hubCount} processes: the recovery below is measured at ${back} kiosks, not ${pgKiosks}: after the SIGKILL the ${survivors.length} surviving process${survivors.length > 1 ? 'es' : ''} would hold ${pgKiosks} sockets, over this machine's hard limit of ${hardFiles} open files per process (ulimit -Hn); ${pgKiosks - back} kiosks closed for good before the kill (--hubs ${hubCount + 1} measures ${pgKiosks} with two survivors)`,
          );
          await load.drop(back);
          for (;;) {
            let sessions = 0;
            for (const h of hubs)
              sessions += (await h.ask({ type: 'stats', rss: false })).connected as number;
            if (sessions <= back) break;
            await sleep(200);
          }
          for (const [i, h] of hubs.entries())
            held[i] = (await h.ask({ type: 'stats', rss: false })).connected as number;
        }
        // kioskd resets its backoff only after a connection stayed booted for a minute: kiosks
        // connected for longer (as in the field) first retry within 1 s.
        log(
          'PostgreSQL: 61 s of idle heartbeats before the kill (kioskd backoff reset after 60 s booted)',
        );
        await sleep(61_000);
        const before = await load.status();
        for (const h of survivors) await h.ask({ type: 'stats', rss: false }); // resets their pool-wait maxima
        log(
          `PostgreSQL: SIGKILL process ${victim + 1} (${held[victim]} kiosks); the others take them`,
        );
        const overflowsBefore = listenOverflows();
        const killedAt = Date.now();
        hubs[victim]!.proc.kill('SIGKILL');
        await hubs[victim]!.exited;
        await sleep(200);
        await waitConnected(survivors, load, back, 'PostgreSQL: coming back', 900_000);
        const backMs = Date.now() - killedAt;
        await sleep(1000);
        const st = await load.status();
        const during: Record<string, number> = {};
        for (const [k, v] of Object.entries(st)) during[k] = v - (before[k] ?? 0);
        let sessions = 0;
        const waiting: number[] = [];
        for (const h of survivors) {
          const hs = await h.ask({ type: 'stats', rss: false });
          sessions += hs.connected as number;
          waiting.push(hs.poolWaitingMax as number);
        }
        if ((st.replacedCloses ?? 0) > 0 || sessions !== back || st.open !== back)
          fail(
            `after the kill: ${sessions} sessions, ${st.open} sockets open, ${st.replacedCloses} replaced`,
          );
        const moved = held[victim] ?? 0;
        const overflows = listenOverflows() - overflowsBefore;
        report(
          `PostgreSQL, ${hubCount} processes: SIGKILL of process ${victim + 1} holding ${moved} of ${back} kiosks: all ${back} connected and booted again ${backMs} ms after the kill (aim <= 60 s: ratio ${(backMs / 60_000).toFixed(3)}; ${((moved / backMs) * 1000).toFixed(0)} kiosks/s moved); ` +
            `sessions ${sessions}, kiosk sockets open ${st.open}, replaced (duplicate) sessions ${st.replacedCloses ?? 0}; from the idle minute to the end: ${troubles(during)}; most callers waiting for a pooled connection (sampled) on the survivor${survivors.length > 1 ? 's' : ''}: ${waiting.join(', ')}; connections dropped on a full listen backlog (TcpExt ListenOverflows) ${overflows}; ${load1()}`,
        );
      }
    }
    await load.stop();
    for (const h of hubs) await stopChild(h);
  }
} catch (err) {
  fail(`failed: ${(err as Error).message}`);
} finally {
  await cleanup.run();
}
process.stdout.write(
  `\nbench:hub results (${os.cpus().length} cores, node ${process.version}, hubs built: dist/)\n`,
);
for (const r of results) process.stdout.write(`  ${r}\n`);
process.exitCode = exitCode;
