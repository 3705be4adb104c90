// The PostgreSQL floor of bench:hub's command round trips: what PostgreSQL itself costs per
// command when the hub processes cost (almost) nothing. Two (or --hubs) "hubs" in this one
// process, each with the hub's own PostgresStore (its pool) and PgCluster (its LISTEN/NOTIFY
// connection), send exactly the statements and commits a hub process sends per command in
// bench:hub, with no kiosk, WebSocket, dispatcher or schema check around them. Kiosk k is
// "held" by hub k % N; senders take turns, so most commands cross processes as in bench:hub:
//  - the sender: the command's INSERT (insertIfKiosk, autocommit; written `sent` when the
//    kiosk is its own), then its `pending` NOTIFY on its cluster connection;
//  - the holder (on that NOTIFY, or the sender itself at once): the answer's UPDATE (with
//    the other answers of its turn: AnswerBatch), then the `completed` NOTIFY;
//  - the sender is done when it hears (or, holding the kiosk, makes) the completed record.
// Whatever bench:hub's PostgreSQL processes cost on top of this is the hubs' own work.
// As a bench:hub child (IPC: {type:'rtt', url, count, concurrency, kiosks, hubs, poolSize};
// answer: round-trips.ts's figures and `cost`, the store's and cluster's counts) the parent
// reads PostgreSQL's CPU around it. Alone, on a throw-away durable cluster (as bench:hub's):
//   npx tsx scripts/bench/pg-floor.ts [--commands 20000] [--concurrency 32] [--kiosks 1000]
import { PgCluster } from '../../cloud-lite/cluster/pg-cluster.js';
import { AnswerBatch } from '../../cloud-lite/hub/answer-batch.js';
import { PostgresStore } from '../../cloud-lite/store/postgres/postgres-store.js';
import type { CommandRecord, KioskFacts } from '../../cloud-lite/store/types.js';
import { timeOrderedUuid } from '../../common/time-ordered-id.js';
import { FEATURE_NAMES } from '../../protocol/index.js';
import { clusterCpuSeconds, type PgFloorStats, pgFloorLine } from './pg-figures.js';
import { timeRoundTrips } from './round-trips.js';

export interface PgFloorOptions {
  /** A database of its own (migrated here). */
  url: string;
  count: number;
  concurrency: number;
  kiosks: number;
  hubs: number;
  poolSize: number;
  /** The cluster's data directory, if on this machine: PostgreSQL's CPU is read from /proc. */
  dataDir?: string;
  /** Called just before and just after the timed round trips (a profiler's marks). */
  mark?: (at: 'start' | 'end') => Promise<void>;
}

/** The hub's answer to a command: a CALLRESULT's payload. */
const RESULT = { status: 'Accepted' };
const FACTS: KioskFacts = { booted: true, features: [...FEATURE_NAMES] };
const silent = { info() {}, warn() {}, error() {} };

interface FloorHub {
  store: PostgresStore;
  cluster: PgCluster;
  answers: AnswerBatch;
  /** Commands this hub sent, waiting for their completed record. */
  waiting: Map<string, () => void>;
}

/** Runs the floor on `opts.url`: the timed round trips and what they cost (counts). */
export async function pgFloor(opts: PgFloorOptions): Promise<PgFloorStats> {
  const hubs: FloorHub[] = [];
  try {
    for (let i = 0; i < opts.hubs; i++) {
      // One after another: the first migrates the database.
      const store = await PostgresStore.open(opts.url, { poolSize: opts.poolSize });
      const cluster = new PgCluster({ url: opts.url, logger: silent, leaderRetryMs: 60_000 });
      hubs.push({ store, cluster, answers: new AnswerBatch({ store }), waiting: new Map() });
      await cluster.start();
    }
    const ids = Array.from(
      { length: opts.kiosks },
      (_, i) => `floor-${String(i).padStart(5, '0')}`,
    );
    const at = new Date().toISOString();
    await hubs[0]!.store.transaction(async (tx) => {
      for (const id of ids) {
        await tx.kiosks.insert({ id, name: id, createdAt: at });
        await tx.kiosks.recordBoot(id, {
          at,
          softwareVersion: 'bench',
          imageVersion: null,
          slotCount: 8,
          bootReason: 'PowerUp',
          features: FACTS.features,
        });
      }
    });
    const holderOf = (kioskId: string) => hubs[Number(kioskId.slice(6)) % hubs.length]!;

    /**
     * The holder's answer: recorded with the others of its turn (the hub's AnswerBatch: one
     * UPDATE for all of them), then the completed record told to the others.
     */
    const answer = async (h: FloorHub, cmd: CommandRecord): Promise<void> => {
      const doneAt = new Date().toISOString();
      const marked = cmd.state === 'sent';
      const changed = await h.answers.record({
        id: cmd.id,
        state: 'completed',
        at: doneAt,
        result: RESULT,
        sentAt: marked ? null : doneAt,
      });
      if (!changed) throw new Error(`command ${cmd.id}: the answer changed nothing`);
      const done: CommandRecord = { ...cmd, state: 'completed', updatedAt: doneAt, result: RESULT };
      if (!marked) Object.assign(done, { attempts: cmd.attempts + 1, lastSentAt: doneAt });
      h.waiting.get(cmd.id)?.();
      h.cluster.publish({ t: 'command', id: cmd.id, kioskId: cmd.kioskId, rec: done });
    };
    for (const h of hubs) {
      h.cluster.on('message', (m) => {
        if (m.t !== 'command' || !m.rec) return;
        if (m.rec.state === 'pending' && holderOf(m.kioskId) === h) void answer(h, m.rec);
        else if (m.rec.state === 'completed') h.waiting.get(m.id)?.();
      });
    }
    let turn = 0;
    const one = async (kioskId: string): Promise<boolean> => {
      const sender = hubs[turn++ % hubs.length]!;
      const now = new Date();
      const id = timeOrderedUuid(now.getTime());
      const created = now.toISOString();
      const rec: CommandRecord = {
        id,
        kioskId,
        action: 'EnableSlot',
        payload: { slot: 1, commandId: id },
        state: 'pending',
        createdAt: created,
        updatedAt: created,
        deadline: new Date(now.getTime() + 60_000).toISOString(),
        attempts: 0,
        lastSentAt: null,
        result: null,
      };
      const own = holderOf(kioskId) === sender;
      const row: CommandRecord = own
        ? { ...rec, state: 'sent', attempts: 1, lastSentAt: created }
        : rec;
      const done = new Promise<void>((resolve) => sender.waiting.set(id, resolve));
      try {
        const recorded = await sender.store.transaction(
          (tx) => tx.commands.insertIfKiosk(row, FACTS),
          { isolation: 'autocommit' },
        );
        if (!recorded) return false;
        sender.cluster.publish({ t: 'command', id, kioskId, rec });
        if (own) await answer(sender, row);
        await done;
        return true;
      } finally {
        sender.waiting.delete(id);
      }
    };
    const counts = () => {
      const out = { roundTrips: 0, commits: 0, synced: 0, notifies: 0, messages: 0 };
      for (const h of hubs) {
        const st = h.store.commitStats();
        const cl = h.cluster.stats();
        out.roundTrips += st.roundTrips;
        out.commits += st.commits;
        out.synced += st.synced;
        out.notifies += cl.roundTrips;
        out.messages += cl.sent;
      }
      return out;
    };
    // Warm-up: each pooled connection prepares its statements once.
    await timeRoundTrips({ count: 1000, concurrency: opts.concurrency, kiosks: ids }, one);
    const before = counts();
    const pgCpu = () => (opts.dataDir ? clusterCpuSeconds(opts.dataDir) : undefined);
    await opts.mark?.('start');
    const cpu0 = pgCpu();
    const timed = await timeRoundTrips(
      { count: opts.count, concurrency: opts.concurrency, kiosks: ids },
      one,
    );
    const cpu1 = pgCpu();
    const after = counts();
    await opts.mark?.('end');
    const cost = Object.fromEntries(
      Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
    );
    return {
      ...timed,
      cost,
      pgCpuSeconds: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined,
    };
  } finally {
    for (const h of hubs) {
      await h.cluster.stop();
      await h.store.close();
    }
  }
}

if (process.send) {
  // A bench:hub child.
  process.on('message', async (m: { type: string } & PgFloorOptions) => {
    if (m.type !== 'rtt') return;
    let reply: object;
    try {
      reply = await pgFloor(m);
    } catch (err) {
      reply = { type: 'error', message: (err as Error).message };
    }
    // Exits once the reply is handed to the channel: an exit right after send() can drop it
    // (a bench run ended "pg floor sent no rtt (exit 0)").
    process.send?.(reply, () => process.exit(0));
  });
  process.send({ type: 'ready' });
} else if (process.argv[1]?.endsWith('pg-floor.ts')) {
  // Alone (npx tsx): on a throw-away cluster with the bench's durable settings.
  const { Command } = await import('commander');
  const cli = new Command('pg-floor')
    .option('--commands <n>', 'command round trips to time', '20000')
    .option('--concurrency <n>', 'commands in flight at once', '32')
    .option('--kiosks <n>', 'kiosks the commands go to', '1000')
    .option('--hubs <n>', '"hub processes" (each a store and a cluster connection)', '2')
    .option('--pool <n>', "each hub's store.poolSize", '10')
    .option(
      '--pg-setting <name=value>',
      'a server setting of the throw-away cluster (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .parse(process.argv)
    .opts<{
      commands: string;
      concurrency: string;
      kiosks: string;
      hubs: string;
      pool: string;
      pgSetting: string[];
    }>();
  const lib = await import('../lib/pg-cluster.js');
  const bin = lib.pgBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (no initdb)');
  const settings: Record<string, string> = {};
  for (const kv of cli.pgSetting) {
    const [k, ...v] = kv.split('=');
    settings[k!] = v.join('=');
  }
  const cluster = lib.startCluster(bin, { durable: true, settings });
  process.stderr.write(`pg-floor: a throw-away cluster in ${cluster.dir}\n`);
  try {
    await lib.adminQuery(cluster.adminUrl, 'CREATE DATABASE pg_floor');
    const r = await pgFloor({
      dataDir: `${cluster.dir}/data`,
      url: lib.withDatabase(cluster.adminUrl, 'pg_floor'),
      count: Number(cli.commands),
      concurrency: Number(cli.concurrency),
      kiosks: Number(cli.kiosks),
      hubs: Number(cli.hubs),
      poolSize: Number(cli.pool),
    });
    process.stdout.write(`PostgreSQL floor: ${pgFloorLine(r)}\n`);
  } finally {
    cluster.stop();
  }
}
