import type { KioskDb } from '../db/open-db.js';

/** Source of the current time; `now()` is what kioskd stamps events and deadlines with. */
export interface TimeSource {
  now(): Date;
}

export interface HubClockDeps {
  db: KioskDb;
  /** Local wall clock in ms (tests inject one); default Date.now. */
  localNow?: () => number;
}

/**
 * Hub-corrected clock. A Pi has no RTC, so its local clock may be anywhere after boot:
 * the hub's `currentTime` (Boot and Heartbeat answers) gives the offset, corrected by
 * half the round trip, and persisted so it survives a restart (better than nothing
 * until the next sync). Methods are synchronous; no timers.
 */
export class HubClock implements TimeSource {
  private offsetMs: number;
  private syncedAt: string | null;

  constructor(private readonly deps: HubClockDeps) {
    const row = deps.db
      .prepare('SELECT clock_offset_ms, clock_synced_at FROM identity WHERE id = 1')
      .get() as { clock_offset_ms: number; clock_synced_at: string | null } | undefined;
    this.offsetMs = row?.clock_offset_ms ?? 0;
    this.syncedAt = row?.clock_synced_at ?? null;
  }

  private local(): number {
    return (this.deps.localNow ?? Date.now)();
  }

  /** Hub-corrected current time. */
  now(): Date {
    return new Date(this.local() + this.offsetMs);
  }

  /** Current offset (hub minus local) in ms. */
  get offset(): number {
    return this.offsetMs;
  }

  /** When the clock last synced (hub time, ISO), or null if never. */
  get lastSync(): string | null {
    return this.syncedAt;
  }

  /**
   * Adopts the hub's time. `sentAtMs`/`receivedAtMs` are local times around the call;
   * the hub's stamp is assumed to be taken half-way. Ignores an unparsable time.
   * Returns the new offset.
   */
  sync(hubTimeIso: string, sentAtMs: number, receivedAtMs: number): number {
    const hub = Date.parse(hubTimeIso);
    if (!Number.isFinite(hub)) return this.offsetMs;
    const rtt = Math.max(0, receivedAtMs - sentAtMs);
    this.offsetMs = Math.round(hub + rtt / 2 - receivedAtMs);
    this.syncedAt = new Date(receivedAtMs + this.offsetMs).toISOString();
    this.deps.db
      .prepare('UPDATE identity SET clock_offset_ms = ?, clock_synced_at = ? WHERE id = 1')
      .run(this.offsetMs, this.syncedAt);
    return this.offsetMs;
  }
}
