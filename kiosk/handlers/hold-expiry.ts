/**
 * Hold expiry: a disk held for a reservation (`reserved`) whose hold deadline passed goes
 * back to `ready` with a ReservationExpired event and the reservation row `expired`, in one
 * transaction. Checked at start() and then every `intervalMs`; the hub expires its side
 * of the reservation on its own clock (this is the kiosk's backstop when the hub's
 * CancelReservation does not arrive).
 */
import type { KioskDb } from '../db/open-db.js';
import type { KioskLogger } from '../log.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { TimeSource } from '../state/clock.js';

export interface HoldExpiryDeps {
  db: KioskDb;
  slots: SlotStore;
  clock: TimeSource;
  log: KioskLogger;
  /** Default 15 000 ms. */
  intervalMs?: number;
}

export class HoldExpiry {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: HoldExpiryDeps) {}

  start(): void {
    this.sweep();
    this.timer = setInterval(() => this.sweep(), this.deps.intervalMs ?? 15_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Releases every expired hold now; returns the slots released. Never throws. */
  sweep(): number[] {
    const { db, slots, clock, log } = this.deps;
    const now = clock.now();
    const released: number[] = [];
    for (const s of slots.list()) {
      if (s.state !== 'reserved' || !s.reservationId) continue;
      const row = db
        .prepare('SELECT hold_until FROM reservations WHERE reservation_id = ?')
        .get(s.reservationId) as { hold_until: string } | undefined;
      if (!row || Date.parse(row.hold_until) > now.getTime()) continue;
      const reservationId = s.reservationId;
      try {
        slots.transition({
          slot: s.slot,
          from: 'reserved',
          to: 'ready',
          reason: `hold of reservation ${reservationId} expired at ${row.hold_until}`,
          set: { reservationId: null },
          events: [{ type: 'ReservationExpired', data: { reservationId, slot: s.slot } }],
          also: (d) =>
            d
              .prepare(
                "UPDATE reservations SET state = 'expired', updated_at = ? WHERE reservation_id = ?",
              )
              .run(now.toISOString(), reservationId),
        });
        released.push(s.slot);
        log.info({ slot: s.slot, reservationId }, 'reservation hold expired; disk ready again');
      } catch (err) {
        // The slot moved meanwhile (a pickup started): nothing to release.
        log.debug({ slot: s.slot, err: (err as Error).message }, 'hold expiry skipped');
      }
    }
    return released;
  }
}
