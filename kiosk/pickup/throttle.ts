/**
 * The kiosk's wrong-code throttle (one row in `pickup_throttle`): FREE_TRIES wrong codes, then
 * a lockout of BASE_LOCKOUT_MS that doubles with every further lockout up to MAX_LOCKOUT_MS.
 * A right code resets it. In SQLite, so a restart (or a pulled plug) does not reset it.
 * Synchronous; every method may join an enclosing transaction.
 */
import type { KioskDb } from '../db/open-db.js';

export const FREE_TRIES = 5;
export const BASE_LOCKOUT_MS = 30_000;
export const MAX_LOCKOUT_MS = 60 * 60 * 1000;

export interface ThrottleState {
  /** Wrong codes since the last lockout (or right code). */
  failures: number;
  /** Lockouts since the last right code (each one twice as long as the one before). */
  lockouts: number;
  /** ISO; set while a lockout lasts or lasted. */
  lockedUntil: string | null;
}

interface Row {
  failures: number;
  lockouts: number;
  locked_until: string | null;
}

export class PickupThrottle {
  constructor(private readonly db: KioskDb) {}

  state(): ThrottleState {
    const row = this.db
      .prepare('SELECT failures, lockouts, locked_until FROM pickup_throttle WHERE id = 1')
      .get() as Row | undefined;
    return row
      ? { failures: row.failures, lockouts: row.lockouts, lockedUntil: row.locked_until }
      : { failures: 0, lockouts: 0, lockedUntil: null };
  }

  /** The end of the lockout in force at `now`, or undefined. */
  lockedUntil(now: Date): string | undefined {
    const { lockedUntil } = this.state();
    return lockedUntil && Date.parse(lockedUntil) > now.getTime() ? lockedUntil : undefined;
  }

  /** Counts a wrong code; returns the new state (lockedUntil set if this one locked). */
  fail(now: Date): ThrottleState {
    const s = this.state();
    let next: ThrottleState = { ...s, failures: s.failures + 1 };
    if (next.failures >= FREE_TRIES) {
      const ms = Math.min(MAX_LOCKOUT_MS, BASE_LOCKOUT_MS * 2 ** Math.min(s.lockouts, 20));
      next = {
        failures: 0,
        lockouts: s.lockouts + 1,
        lockedUntil: new Date(now.getTime() + ms).toISOString(),
      };
    }
    this.write(next, now);
    return next;
  }

  /** A right code: no failures, no lockout history. */
  reset(now: Date): void {
    this.write({ failures: 0, lockouts: 0, lockedUntil: null }, now);
  }

  private write(s: ThrottleState, now: Date): void {
    this.db
      .prepare(
        `INSERT INTO pickup_throttle (id, failures, lockouts, locked_until, updated_at)
         VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET failures = excluded.failures, lockouts = excluded.lockouts,
           locked_until = excluded.locked_until, updated_at = excluded.updated_at`,
      )
      .run(s.failures, s.lockouts, s.lockedUntil, now.toISOString());
  }
}
