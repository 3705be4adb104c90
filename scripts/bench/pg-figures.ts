// PostgreSQL's figures for bench:hub and its PostgreSQL floor (pg-floor.ts): the cluster's CPU
// (read before and after a timed run: PostgreSQL's CPU per operation) and the floor's line.
// Transpiled with the bench:hub children into dist/scripts/bench/.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RoundTripStats } from './round-trips.js';

/** What pg-floor.ts measured. */
export type PgFloorStats = RoundTripStats & {
  /** Over the timed round trips: round trips, commits, NOTIFY queries, messages (all "hubs"). */
  cost: Record<string, number>;
  /** PostgreSQL's CPU seconds over the timed round trips (undefined: not on this machine). */
  pgCpuSeconds: number | undefined;
};

/**
 * CPU seconds used so far by the cluster of data directory `dataDir` (its postmaster, the
 * postmaster's children, and the children it reaped), from /proc; undefined where that cannot
 * be read (not Linux, no postmaster.pid).
 */
export function clusterCpuSeconds(dataDir: string): number | undefined {
  try {
    const pm = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const tick = 100; // USER_HZ on Linux
    let total = 0;
    for (const d of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(d)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      } catch {
        continue;
      }
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(d);
      const ppid = Number(f[1]);
      if (pid !== pm && ppid !== pm) continue;
      // fields after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
      total += Number(f[11]) + Number(f[12]);
      if (pid === pm) total += Number(f[13]) + Number(f[14]);
    }
    return total / tick;
  } catch {
    return undefined;
  }
}

/** The floor's figures in one line (bench:hub prints it beside the hubs'). */
export function pgFloorLine(r: PgFloorStats): string {
  const pgCpu = r.pgCpuSeconds;
  const per = (n: number) => (n / r.count).toFixed(2);
  const us = (s: number) => `${((s / r.count) * 1e6).toFixed(0)} µs`;
  return (
    `${(r.count / r.seconds).toFixed(0)} commands/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, failed ${r.failed}; ` +
    `CPU per command: ${pgCpu === undefined ? '' : `PostgreSQL ${us(pgCpu)} (${((pgCpu / r.seconds) * 100).toFixed(0)}% of a core), `}` +
    `the floor's node process ${us(r.cpuSeconds)}; per command ${per(r.cost.roundTrips ?? 0)} round trips, ` +
    `${per(r.cost.commits ?? 0)} commits, ${per(r.cost.notifies ?? 0)} NOTIFY queries carrying ${per(r.cost.messages ?? 0)} messages`
  );
}
