/** Reconnect backoff settings. */
export interface BackoffOptions {
  /** Ceiling of the first delay (ms). */
  baseMs: number;
  /** Largest ceiling (ms). */
  capMs: number;
}

/**
 * Exponential backoff with FULL jitter (AWS architecture blog): the delay of attempt n
 * (0-based) is uniform in [0, min(cap, base * 2^n)], so a fleet reconnecting after a
 * hub restart spreads out instead of stampeding.
 */
export function fullJitterDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
