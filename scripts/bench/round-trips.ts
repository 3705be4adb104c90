// Times command round trips for the bench:hub children (hub-server.ts, hub-floor.ts): `total`
// round trips, `concurrency` in flight, kiosks taken in turn; latency quantiles, this process's
// CPU, and a progress message to the parent about once a second.
import { performance } from 'node:perf_hooks';

export interface RoundTripStats {
  type: 'rtt';
  count: number;
  failed: number;
  seconds: number;
  cpuSeconds: number;
  p50: number;
  p99: number;
  max: number | undefined;
  /** Every round trip's milliseconds, sorted (to merge several processes' quantiles). */
  latencies: number[];
}

/** `one(kioskId)` makes one round trip and resolves true when it completed as it should. */
export async function timeRoundTrips(
  opts: { count?: number; concurrency?: number; kiosks?: string[]; offset?: number },
  one: (kioskId: string) => Promise<boolean>,
): Promise<RoundTripStats> {
  const ids = opts.kiosks ?? [];
  const total = opts.count ?? 0;
  const offset = opts.offset ?? 0;
  const lat: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const progress = setInterval(
    () => process.send?.({ type: 'progress', pid: process.pid, done: lat.length, of: total }),
    1000,
  );
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      const ok = await one(ids[(i + offset) % ids.length]!).catch(() => false);
      if (!ok) failed++;
      lat.push(performance.now() - t0);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 32 }, worker));
  } finally {
    clearInterval(progress);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? Number.NaN;
  return {
    type: 'rtt',
    count: lat.length,
    failed,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    p50: q(0.5),
    p99: q(0.99),
    max: lat.at(-1),
    latencies: lat,
  };
}
