import type { Tx } from './types.js';

/** Hits older than this are deleted whatever their key (no throttle window may be longer). */
const KEEP_MS = 30 * 24 * 3600 * 1000;

/** At most `max` hits of `key` within `windowSeconds`. */
export interface Limit {
  key: string;
  max: number;
  windowSeconds: number;
}

/**
 * Throttles kept in the store, so that parallel requests (and several hub processes) see one
 * count: a hit is counted inside the caller's transaction, before the work it guards (a
 * password check, a registration, an enrolment), never after. Keys name their purpose
 * (`acct-ip:`, `register:`, `enrol:`, ...); windows are at most 30 days.
 */
export class Throttle {
  /**
   * Counts one hit against every limit, atomically in `tx`: when any limit is already full,
   * records nothing and returns the seconds until it frees (at least 1); else records a hit
   * at `now` for each limit and returns 0.
   */
  async take(tx: Tx, limits: readonly Limit[], now: Date): Promise<number> {
    const t = now.getTime();
    await tx.loginFailures.prune(new Date(t - KEEP_MS).toISOString());
    let retry = 0;
    for (const l of limits) {
      const windowMs = l.windowSeconds * 1000;
      const start = new Date(t - windowMs).toISOString();
      await tx.loginFailures.prune(start, l.key);
      const hits = await tx.loginFailures.since(l.key, start);
      if (hits.length >= l.max) {
        const oldest = Date.parse(hits[hits.length - l.max]!);
        retry = Math.max(retry, Math.ceil((oldest + windowMs - t) / 1000), 1);
      }
    }
    if (retry > 0) return retry;
    for (const l of limits) await tx.loginFailures.add(l.key, now.toISOString());
    return 0;
  }

  /** Takes back the hits `take` recorded at `at` (the attempt turned out good). */
  async release(tx: Tx, limits: readonly Limit[], at: Date): Promise<void> {
    for (const l of limits) await tx.loginFailures.removeOne(l.key, at.toISOString());
  }
}
