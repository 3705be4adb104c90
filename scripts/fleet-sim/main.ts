// `npm run fleet-sim -- --kiosks N --renters M --minutes T --seed S [--greedy G] [--reformat-ready K] [--real-disks]
// [--store sqlite|postgres] [--pg-url URL] [--hubs H] [--no-faults] [--report FILE]`: the fleet under faults.
// Starts cloud-lite (H processes on one PostgreSQL with --hubs) and N kioskd
// processes on simulated hardware, M renter bots and the fault injector for T minutes;
// then stops the faults, lets the fleet settle, stops the processes, checks both sides'
// databases and the simulators' physical records, prints a report and exits 1 on any
// invariant violation (2 when the fleet could not even start).
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Cleanup, guardProcess } from '../lib/cleanup.js';
import { adminQuery, pgBinDir, startCluster, withDatabase } from '../lib/pg-cluster.js';
import { checkAlerts, SIM_ALERTS } from './alert-check.js';
import { type Hands, type OpCounts, RenterBot } from './bots.js';
import { check, type Violation } from './checker.js';
import { FaultInjector } from './faults.js';
import { GreedyBot } from './greedy-bot.js';
import { Prng } from './prng.js';
import { formatReport, type SimReport } from './report.js';
import { settle } from './settle.js';
import { startWorld, type World } from './world.js';

export interface FleetSimOptions {
  kiosks: number;
  renters: number;
  minutes: number;
  seed: number;
  realDisks: boolean;
  faults: boolean;
  report?: string;
  dir?: string;
  keep?: boolean;
  /** Renters take disks sticking out even after a jam or a failed order (reproduces a finding). */
  grabLoose?: boolean;
  settleTimeoutMs?: number;
  log?: (line: string) => void;
  /** Undo actions of the world (a process guard's); default a fresh one. */
  cleanup?: Cleanup;
  /** Greedy renter bots (greedy-bot.ts) besides the renters; default 1. */
  greedy?: number;
  /**
   * The hub lets reservations reformat ready stock of other content while this many ready
   * disks per type stay (rental.reservationsMayReformatReady + keepReadyPerType); default off.
   */
  reformatReady?: number;
  /** The hub's store (default sqlite). postgres: `pgUrl`'s server, else a throw-away cluster. */
  store?: 'sqlite' | 'postgres';
  /** A PostgreSQL server whose role may CREATE DATABASE (a fresh database is made and dropped). */
  pgUrl?: string;
  /** Hub processes on the one PostgreSQL database (default 1). */
  hubs?: number;
}

/**
 * A fresh PostgreSQL database for the run: on `pgUrl`'s server, or on a throw-away cluster
 * started here; dropped (or the cluster removed) by `cleanup`.
 */
async function runDatabase(o: FleetSimOptions, cleanup: Cleanup): Promise<string> {
  let server = o.pgUrl;
  if (!server) {
    const bin = pgBinDir();
    if (!bin)
      throw new Error(
        'PostgreSQL is not installed (no initdb): scripts/setup.sh installs postgresql-15, or pass --pg-url',
      );
    const cluster = startCluster(bin);
    cleanup.add('PostgreSQL cluster', () => cluster.stop());
    server = cluster.adminUrl;
  }
  const db = `fleet_sim_${o.seed}_${process.pid}`;
  await adminQuery(server, `CREATE DATABASE ${db}`);
  const admin = server;
  if (o.pgUrl)
    cleanup.add('PostgreSQL database', () => adminQuery(admin, `DROP DATABASE IF EXISTS ${db}`));
  return withDatabase(server, db);
}

const TIMINGS = {
  holdWindowSeconds: 15,
  pickupWindowSeconds: 10,
  jamHoldSeconds: 30,
  noShowFeeMinor: 300,
};

export async function runFleetSim(o: FleetSimOptions): Promise<SimReport> {
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const t0 = Date.now();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s]`;
  const say = (l: string) => log(`${stamp()} ${l}`);
  const dir = o.dir ?? (await mkdtemp(path.join(os.tmpdir(), `fleet-sim-${o.seed}-`)));
  const storeKind = o.store ?? 'sqlite';
  const hubCount = Math.max(1, Math.floor(o.hubs ?? 1));
  const cleanup =
    o.cleanup ?? new Cleanup((what, err) => say(`cleanup: ${what} failed: ${err.message}`));
  say(
    `fleet-sim seed ${o.seed}: ${o.kiosks} kiosks, ${o.renters} renters + ${o.greedy ?? 1} greedy, ${o.minutes} min, ready stock ${o.reformatReady === undefined ? 'never reformatted' : `reformattable keeping ${o.reformatReady}`}, faults ${o.faults ? 'on' : 'off'}, ${storeKind === 'postgres' ? `PostgreSQL, ${hubCount} hub process${hubCount > 1 ? 'es' : ''}` : 'SQLite'}, ${o.realDisks ? 'loop-device' : 'directory'} disks, dir ${dir}`,
  );
  const rng = new Prng(o.seed);
  const greedy = o.greedy ?? 1;
  const botRngs = Array.from({ length: o.renters }, (_, i) => rng.fork(`bot-${i + 1}`));
  const greedyRngs = Array.from({ length: greedy }, (_, i) => rng.fork(`greedy-${i + 1}`));
  const stockPolicy = {
    reservationsMayReformatReady: o.reformatReady !== undefined,
    keepReadyPerType: o.reformatReady ?? 1,
  };
  const faultRng = rng.fork('faults');
  let world: World | undefined;
  const hands: Hands = { held: new Map(), log: [], linkCuts: [] };
  const ops: OpCounts = {};
  const report: SimReport = {
    seed: o.seed,
    kiosks: o.kiosks,
    renters: o.renters,
    greedy,
    minutes: o.minutes,
    ok: false,
    ops,
    faults: {},
    faultLog: [],
    unsettled: [],
    violations: [],
    stats: {},
    dir,
    durationSeconds: 0,
  };
  try {
    if (storeKind !== 'sqlite' && storeKind !== 'postgres')
      throw new Error(`--store must be sqlite or postgres, not ${storeKind}`);
    if (hubCount > 1 && storeKind !== 'postgres')
      throw new Error('--hubs more than 1 needs --store postgres');
    const pgUrl = storeKind === 'postgres' ? await runDatabase(o, cleanup) : undefined;
    world = await startWorld({
      dir,
      ...(pgUrl ? { store: { kind: 'postgres' as const, url: pgUrl } } : {}),
      hubs: hubCount,
      kiosks: o.kiosks,
      renters: o.renters + greedy,
      // A kiosk lost mid-dispense is told to the renter 2 s after it went silent (the hub's
      // default is 5 s), so the short runs see kiosk_unreachable and its settling often.
      rental: { ...stockPolicy, kioskUnreachableAfterSeconds: 2 },
      // A kiosk down a few seconds raises kiosk_offline (alert-check.ts matches it to its fault).
      alerts: SIM_ALERTS,
      backing: o.realDisks ? 'loop' : 'directory',
      timings: TIMINGS,
      progress: say,
      cleanup,
      // Every kiosk has a pickup-code keypad (the simulator, typed on through its socket).
      keypad: (kioskDir) => ({ driver: 'sim', socketPath: path.join(kioskDir, 'keypad.sock') }),
    });
    const w = world;
    let stopping = false;
    // Rules a bot saw broken as it happened (a per-renter limit let through, ...).
    const seen: Violation[] = [];
    const botDeps = {
      world: w,
      hands,
      ops,
      stopping: () => stopping,
      grabLoose: o.grabLoose,
      log: (l: string) => say(l),
      violation: (v: Violation) => {
        seen.push(v);
        say(`violation seen by a bot: ${v.invariant}: ${v.message}`);
      },
    };
    const bots = w.renters.map((a, i) =>
      i < o.renters
        ? new RenterBot(i + 1, a, botRngs[i]!, botDeps)
        : new GreedyBot(i + 1, a, greedyRngs[i - o.renters]!, botDeps),
    );
    const faults = new FaultInjector(w, faultRng, {
      meanIntervalMs: Math.max(1000, Math.round(3000 / Math.max(1, o.kiosks / 3))),
      say,
    });
    if (o.faults) faults.start();
    // As systemd would (Restart=always): a process that died on its own is restarted, and
    // reported, since nothing but an injected fault should stop one.
    const exits: Violation[] = [];
    let restarting = false;
    const supervisor = setInterval(() => {
      if (restarting) return;
      for (const k of w.kiosks) {
        if (k.kiosk.running() || faults.owns(k.id) || !k.kiosk.proc) continue;
        const how = k.kiosk.proc.exitCode ?? k.kiosk.proc.signalCode;
        // kioskd starts without its slot board (it retries it in the background), so no
        // exit is expected: every one is a violation.
        exits.push({
          invariant: 'no-crash',
          message: `kioskd ${k.id} exited on its own (${how}); log tail: ${k.kiosk.output().slice(-600)}`,
          ids: { kioskId: k.id },
        });
        say(`kioskd ${k.id} exited on its own (${how}); restarting it`);
        k.kiosk.respawn();
      }
      const dead = w.hubs.findIndex((h) => !h.running());
      if (dead >= 0 && !faults.owns('cloud-lite')) {
        const name = w.hubs.length > 1 ? `cloud-lite hub ${dead + 1}` : 'cloud-lite';
        exits.push({ invariant: 'no-crash', message: `${name} exited on its own`, ids: {} });
        say(`${name} exited on its own; restarting it`);
        restarting = true;
        w.hubs[dead]!.start(120_000).finally(() => {
          restarting = false;
        });
      }
    }, 500);
    const running = bots.map((b) => b.run());
    await new Promise((r) => setTimeout(r, o.minutes * 60_000));
    say('time is up: no new operations; stopping faults');
    stopping = true;
    await faults.heal();
    say('faults stopped; every process is back; waiting for the renters to finish');
    await Promise.race([Promise.allSettled(running), new Promise((r) => setTimeout(r, 180_000))]);
    say('waiting for the fleet to settle');
    report.unsettled = await settle(w, o.settleTimeoutMs ?? 150_000);
    clearInterval(supervisor);
    if (report.unsettled.length) say(`NOT settled: ${report.unsettled.slice(0, 10).join('; ')}`);
    else say('settled: all kiosks connected, outboxes drained, nothing pending');
    // Quiesce the processes so the databases are read at rest (boards stay for the sensors).
    await Promise.all(w.kiosks.map((k) => k.kiosk.kill('SIGTERM')));
    await Promise.all(w.hubs.map((h) => h.stop()));
    // PostgreSQL: its tables copied into a SQLite file the checkers read.
    const hubDb = await w.db.snapshot(path.join(dir, 'hub-snapshot.sqlite'));
    const alerted = checkAlerts(hubDb, faults.log, Date.now(), hands.linkCuts, hubCount);
    const result = check({
      hubDb,
      kiosks: w.kiosks.map((k) => ({
        id: k.id,
        dbPath: k.dbPath,
        sim: k.kiosk.sim,
        slots: 5,
        diskAt: k.diskAt,
      })),
      hands,
      diskNames: w.diskNames,
      noShowFeeMinor: TIMINGS.noShowFeeMinor,
      stockPolicy,
      faults: faults.log,
    });
    const unsettledV: Violation[] = report.unsettled.map((u) => ({
      invariant: 'settled',
      message: u,
      ids: {},
    }));
    report.violations = [
      ...exits,
      ...seen,
      ...unsettledV,
      ...result.violations,
      ...alerted.violations,
    ];
    report.alerts = {
      ...alerted.report,
      faults: alerted.report.faults.map((l) => ({ ...l, at: l.at - t0 })),
      missing: alerted.report.missing.map((l) => ({ ...l, at: l.at - t0 })),
    };
    report.stats = result.stats;
    report.faults = faults.counts;
    report.faultLog = faults.log.map((f) => ({
      ...f,
      at: f.at - t0,
      ...(f.upAt === undefined ? {} : { upAt: f.upAt - t0 }),
    }));
    report.ok = report.violations.length === 0;
  } catch (err) {
    report.violations.push({
      invariant: 'run',
      message: (err as Error).stack ?? String(err),
      ids: {},
    });
    report.error = (err as Error).message;
  } finally {
    if (world) await world.stop();
    else await cleanup.run();
    report.durationSeconds = Math.round((Date.now() - t0) / 1000);
    if (!o.keep && report.ok) await rm(dir, { recursive: true, force: true });
  }
  return report;
}

async function main(argv: string[]): Promise<number> {
  const num = (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${v}`);
    return n;
  };
  const p = new Command('fleet-sim')
    .description(
      'fleet simulation under faults: proves nothing is lost, dispensed twice or charged twice',
    )
    .option('--kiosks <n>', 'kioskd processes', num, 3)
    .option('--renters <n>', 'renter bots', num, 6)
    .option('--greedy <n>', 'greedy renter bots (reserve and cancel in a loop)', num, 1)
    .option(
      '--reformat-ready <keep>',
      'let reservations reformat ready stock of other content while <keep> ready disks per type stay',
      num,
    )
    .option('--minutes <t>', 'minutes of operations under faults', num, 1)
    .option('--seed <s>', 'seed of every random choice', num, Date.now() % 100000)
    .option('--real-disks', 'loop devices with real exFAT (root) instead of directory disks', false)
    .option(
      '--store <kind>',
      "the hub's store: sqlite, or postgres (a throw-away cluster, or --pg-url)",
      'sqlite',
    )
    .option(
      '--pg-url <url>',
      'PostgreSQL server for --store postgres (a role that may CREATE DATABASE; a fresh database is made and dropped)',
    )
    .option(
      '--hubs <n>',
      'hub processes on the one PostgreSQL database (fault hub_kill when > 1)',
      num,
      1,
    )
    .option('--no-faults', 'no fault injection')
    .option('--report <file>', 'write the report as JSON')
    .option('--dir <dir>', 'working directory (default a new temp dir; kept on failure)')
    .option('--keep', 'keep the working directory', false)
    .option(
      '--grab-loose',
      'renters take any disk sticking out of their slot, even after a jam or a failed order',
      false,
    )
    .parse(argv, { from: 'user' });
  const a = p.opts<FleetSimOptions>();
  // A signal or a crash stops every process, detaches every loop device and exits.
  const cleanup = new Cleanup((what, err) =>
    process.stderr.write(`fleet-sim: cleanup: ${what} failed: ${err.message}\n`),
  );
  guardProcess(cleanup, { name: 'fleet-sim' });
  const r = await runFleetSim({
    ...a,
    cleanup,
    kiosks: Math.max(1, Math.floor(a.kiosks)),
    renters: Math.floor(a.renters),
    greedy: Math.floor(a.greedy ?? 1),
    hubs: Math.max(1, Math.floor(a.hubs ?? 1)),
    seed: Math.floor(a.seed),
  });
  process.stdout.write(formatReport(r));
  if (a.report) {
    // The report may lie in --dir, which a clean run removes.
    mkdirSync(path.dirname(a.report), { recursive: true });
    writeFileSync(a.report, `${JSON.stringify(r, null, 2)}\n`);
  }
  if (r.error) return 2;
  return r.ok ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`fleet-sim: ${(err as Error).message}\n`);
      process.exit(2);
    },
  );
}
