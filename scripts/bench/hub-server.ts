// Benchmark child: one cloud-lite hub process, driven over IPC by scripts/bench/hub.ts. It runs
// as built (bench:hub transpiles this file into dist/scripts/bench/ beside the built hub and
// starts it with plain node, no tsx).
// argv: <dir> <port>. Messages in: {type:'importKiosks', file, count} | {type:'stats'} (after a
// full GC: RSS and its breakdown, see memory()) | {type:'memory', gc?} |
// {type:'rtt', count, concurrency, kiosks, offset} | {type:'money', count, concurrency} |
// {type:'stop'}. Answers: {type:'<same>', ...}. BENCH_HUB_MONEY_SYNC=off: commits that
// write money tables are not synced (synchronous=NORMAL for them too), to print the cost.
// BENCH_HUB_PG_URL: the hub runs on that PostgreSQL database (one of several processes);
// BENCH_HUB_PG_SYNC_BOOKKEEPING=on: with store.syncBookkeeping true (not the default); BENCH_HUB_PG_POOL_SIZE:
// store.poolSize (default 10, the hub's).
// BENCH_HUB_ALERTS_SWEEP_MS: the alerts sweep's interval (default the hub's, 15 s).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PerformanceObserver, constants as perf, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import pino from 'pino';
import { validateConfig } from '../../cloud-lite/config.js';
import { hashSecret } from '../../cloud-lite/registry/secrets.js';
import { HubServer } from '../../cloud-lite/server.js';
import { timeRoundTrips } from './round-trips.js';

const [dir = '.', portArg = '0'] = process.argv.slice(2);
const config = validateConfig({
  host: '127.0.0.1',
  port: Number(portArg),
  databasePath: path.join(dir, 'hub.db'),
  signingKeyPath: path.join(dir, 'hub-key.pem'),
  adminToken: 'bench-admin-token-0123456789',
  logLevel: 'warn',
  rental: { scryptLog2N: 10 },
  ...(process.env.BENCH_HUB_ALERTS_SWEEP_MS
    ? { alerts: { sweepIntervalMs: Number(process.env.BENCH_HUB_ALERTS_SWEEP_MS) } }
    : {}),
  ...(process.env.BENCH_HUB_PG_URL
    ? {
        store: {
          kind: 'postgres',
          url: process.env.BENCH_HUB_PG_URL,
          poolSize: Number(process.env.BENCH_HUB_PG_POOL_SIZE ?? 10),
          ...(process.env.BENCH_HUB_PG_SYNC_BOOKKEEPING === 'on' ? { syncBookkeeping: true } : {}),
        },
      }
    : {}),
});
const server = new HubServer({
  config,
  logger: pino({ level: 'warn' }),
  storeMoneySync: process.env.BENCH_HUB_MONEY_SYNC !== 'off',
});
const { port } = await server.start();
/** Most callers seen waiting for a pooled PostgreSQL connection since the last stats (sampled every 50 ms). */
let poolWaitingMax = 0;
const pool = (server.store as { poolStats?: () => { waiting: number } }).poolStats?.bind(
  server.store,
);
if (pool)
  setInterval(() => {
    poolWaitingMax = Math.max(poolWaitingMax, pool().waiting);
  }, 50).unref();
const send = (m: unknown) => process.send?.(m);
/**
 * V8's GC pauses on the main thread so far (count and milliseconds, young-generation and full),
 * from node's 'gc' performance entries: what a heap flag costs, apart from the load.
 */
const gcPauses = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === perf.NODE_PERFORMANCE_GC_MINOR) {
      gcPauses.minor++;
      gcPauses.minorMs += e.duration;
    } else if (kind === perf.NODE_PERFORMANCE_GC_MAJOR) {
      gcPauses.major++;
      gcPauses.majorMs += e.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

/**
 * Where the RSS is: process.memoryUsage(), V8's heap spaces (committed and used) and the
 * kernel's split of the resident pages into anonymous (heaps, malloc) and file-backed (node's
 * binary and libraries) from /proc/self/smaps_rollup, in bytes.
 */
function memory(): Record<string, number> {
  const out: Record<string, number> = { ...process.memoryUsage() };
  for (const s of v8.getHeapSpaceStatistics()) {
    out[`${s.space_name}.size`] = s.space_size;
    out[`${s.space_name}.used`] = s.space_used_size;
  }
  try {
    for (const line of readFileSync('/proc/self/smaps_rollup', 'utf8').split('\n')) {
      const m = /^(Rss|Anonymous|Pss_File|Pss_Anon):\s+(\d+) kB/.exec(line);
      if (m) out[`smaps.${m[1]}`] = Number(m[2]) * 1024;
    }
  } catch {
    // not Linux
  }
  return out;
}

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

process.on(
  'message',
  async (m: {
    type: string;
    count?: number;
    concurrency?: number;
    kiosks?: string[];
    offset?: number;
    file?: string;
    /** stats: false skips the RSS (and the gc() before it). */
    rss?: boolean;
    /** memory: true runs a full GC first. */
    gc?: boolean;
  }) => {
    try {
      if (m.type === 'importKiosks') {
        // The kiosks of the load process's file, secrets hashed as enrolment stores them,
        // 1000 per transaction (enrolling 20,000 one by one would time the registry instead).
        const creds = (
          JSON.parse(readFileSync(m.file!, 'utf8')) as Array<{ kioskId: string; secret: string }>
        ).slice(0, m.count);
        const at = new Date().toISOString();
        for (let i = 0; i < creds.length; i += 1000) {
          await server.store.transaction(async (tx) => {
            for (const c of creds.slice(i, i + 1000)) {
              await tx.kiosks.insert({ id: c.kioskId, name: c.kioskId, createdAt: at });
              await tx.kiosks.setSecretHash(c.kioskId, hashSecret(c.secret));
            }
          });
        }
        send({ type: 'importKiosks', count: creds.length });
      } else if (m.type === 'stats') {
        // `rss: false` (the bench's polls while kiosks connect): no forced full GC. gc() on a hub
        // holding thousands of sessions is a 50-160 ms mark-compact of the event loop; polled
        // every ~100 ms it took ~45 % of the survivor's time while the fleet came back.
        const r = m.rss === false ? undefined : rss();
        send({
          type: 'stats',
          rss: r,
          memory: r === undefined ? undefined : memory(),
          connected: server.hub.connectedCount,
          poolWaitingMax,
        });
        poolWaitingMax = 0;
      } else if (m.type === 'memory') {
        // The breakdown without a forced GC first unless asked (gc: true).
        if (m.gc) (globalThis as { gc?: () => void }).gc?.();
        send({ type: 'memory', ...memory(), connected: server.hub.connectedCount });
      } else if (m.type === 'rtt') {
        // What the commands cost this process in the store and the cluster: round trips to
        // PostgreSQL (every statement, BEGIN and COMMIT), commits (and how many waited for the
        // flush), NOTIFY queries and messages (the SQLite store counts commits only).
        const counts = () => {
          const st = server.store.commitStats() as {
            commits: number;
            synced: number;
            roundTrips?: number;
          };
          const cl = server.cluster.stats();
          return {
            roundTrips: st.roundTrips ?? 0,
            commits: st.commits,
            synced: st.synced,
            notifies: cl.roundTrips,
            messages: cl.sent,
            ...gcPauses,
          };
        };
        const before = counts();
        const timed = await timeRoundTrips(m, async (kioskId) => {
          const c = await server.hub.sendCommand(
            kioskId,
            'EnableSlot',
            { slot: 1 },
            new Date(Date.now() + 60_000),
          );
          const done = await server.hub.waitFor(c.id, { timeoutMs: 30_000 });
          return done.state === 'completed';
        });
        const after = counts();
        const cost = Object.fromEntries(
          Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
        );
        send({ ...timed, cost });
      } else if (m.type === 'money') {
        // Deposit top-ups through the rental domain: each one is the hub's money path
        // (payment row, authorisation, capture, deposit entry, audit: several commits).
        const before = server.store.commitStats();
        const renters = await Promise.all(
          Array.from({ length: m.concurrency ?? 32 }, (_, i) =>
            server.rental.accounts.createUser(
              { email: `bench-${i}@bench.test`, password: randomUUID(), role: 'renter' },
              { actor: 'system:bench' },
            ),
          ),
        );
        const card = { paymentMethod: 'pm_card_visa' };
        const total = m.count ?? 0;
        const lat: number[] = [];
        let next = 0;
        const started = performance.now();
        await Promise.all(
          renters.map(async (user) => {
            while (next < total) {
              next++;
              const t0 = performance.now();
              await server.rental.deposits.topUp(user.id, 100, card, { actor: 'bench' });
              lat.push(performance.now() - t0);
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        lat.sort((a, b) => a - b);
        const after = server.store.commitStats();
        send({
          type: 'money',
          commits: after.commits - before.commits,
          synced: after.synced - before.synced,
          count: lat.length,
          seconds,
          p50: lat[Math.floor(0.5 * lat.length)],
          p99: lat[Math.min(lat.length - 1, Math.floor(0.99 * lat.length))],
        });
      } else if (m.type === 'stop') {
        await server.stop();
        send({ type: 'stop' });
        process.exit(0);
      }
    } catch (err) {
      send({ type: 'error', message: (err as Error).message });
    }
  },
);
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
send({ type: 'ready', port, rss: rss() });
