import { type Actor, audit } from '../../audit.js';
import type { HubEvent, KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type { CommandRecord, Store, Tx } from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import type { RentalNotifier } from '../notifier.js';
import { cancelReservationOnKiosk } from './cancel-on-kiosk.js';
import type { Reservations } from './reservations.js';

export interface ReservationOutcomesDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  logger: Logger;
  notifier: RentalNotifier;
  reservations: Reservations;
  now: () => Date;
}

/**
 * What moves a reservation besides the renter: the kiosk's reports (PrepareProgress,
 * PrepareCompleted: ready with its hold window; PrepareFailed: ended, payment released; the
 * kiosk ending it on its own), the PrepareDisk command ending with no outcome, and the clock
 * (prepare deadline, hold window).
 */
export class ReservationOutcomes {
  constructor(private readonly deps: ReservationOutcomesDeps) {}

  async onPrepareProgress(ev: HubEvent<'PrepareProgress'>, tx: Tx) {
    const d = ev.data;
    const r = await tx.reservations.get(d.reservationId);
    if (!r || r.kioskId !== ev.kioskId || r.state !== 'preparing') return;
    const percent =
      d.bytesTotal > 0 ? Math.min(100, Math.round((d.bytesDone / d.bytesTotal) * 1000) / 10) : 0;
    await tx.reservations.update(r.id, {
      progress: {
        step: d.step,
        bytesDone: d.bytesDone,
        bytesTotal: d.bytesTotal,
        percent,
        etaSeconds: d.etaSeconds,
      },
      slot: d.slot,
      updatedAt: this.deps.now().toISOString(),
    });
    tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
  }

  async onPrepareCompleted(ev: HubEvent<'PrepareCompleted'>, tx: Tx) {
    const d = ev.data;
    const r = await tx.reservations.get(d.reservationId);
    if (!r || r.kioskId !== ev.kioskId) return;
    const who: Actor = { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId };
    if (r.state !== 'preparing') {
      // Too late (cancelled, timed out): free the kiosk's disk again.
      if (r.state !== 'ready') await cancelReservationOnKiosk(tx, this.deps, r);
      return;
    }
    const at = this.deps.now().toISOString();
    const holdUntil = new Date(
      this.deps.now().getTime() + this.deps.config.holdWindowSeconds * 1000,
    ).toISOString();
    await tx.reservations.update(r.id, {
      state: 'ready',
      slot: d.slot,
      diskId: d.diskId,
      holdUntil,
      progress: r.progress ? { ...r.progress, percent: 100, etaSeconds: 0 } : null,
      updatedAt: at,
    });
    await audit(tx, who, at, 'reservation.ready', r.id, {
      slot: d.slot,
      diskId: d.diskId,
      holdUntil,
    });
    tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
  }

  async onPrepareFailed(ev: HubEvent<'PrepareFailed'>, tx: Tx) {
    const d = ev.data;
    const r = await tx.reservations.get(d.reservationId);
    if (
      !r ||
      r.kioskId !== ev.kioskId ||
      (r.state !== 'preparing' && r.state !== 'ready') ||
      r.orderId
    )
      return;
    await audit(
      tx,
      { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId },
      this.deps.now().toISOString(),
      'prepare.failed',
      r.id,
      { code: d.code, reason: d.reason },
    );
    await this.deps.reservations.end(tx, r, 'failed', `PREPARE_FAILED: ${d.code}`, false);
  }

  /**
   * The kiosk cancelled or expired a reservation on its own (technician, its own hold timer).
   * Ignored while a pickup order is set (dispensing, or in `jam_hold` after a jam): that
   * order's outcome or its jam hold decides the reservation and its payment.
   */
  async onKioskEnded(ev: HubEvent<'ReservationCancelled' | 'ReservationExpired'>, tx: Tx) {
    const r = await tx.reservations.get(ev.data.reservationId);
    if (
      !r ||
      r.kioskId !== ev.kioskId ||
      r.orderId ||
      (r.state !== 'preparing' && r.state !== 'ready')
    )
      return;
    if (ev.type === 'ReservationExpired' && r.state === 'ready')
      await this.deps.reservations.end(
        tx,
        r,
        'expired',
        'HOLD_EXPIRED',
        false,
        this.deps.config.noShowFeeMinor,
      );
    else await this.deps.reservations.end(tx, r, 'cancelled', 'CANCELLED_BY_KIOSK', false);
  }

  /** A PrepareDisk command ended without an outcome event (rejected, failed, expired). */
  async onCommandEnded(c: CommandRecord): Promise<void> {
    if (c.action !== 'PrepareDisk' || !['rejected', 'failed', 'expired'].includes(c.state)) return;
    const id = (c.payload as { reservationId?: string }).reservationId;
    if (!id) return;
    await this.deps.store.transaction(async (tx) => {
      const r = await tx.reservations.get(id);
      if (r?.state !== 'preparing') return;
      await this.deps.reservations.end(
        tx,
        r,
        'failed',
        c.state === 'expired' ? 'KIOSK_UNREACHABLE' : 'PREPARE_REJECTED',
        c.state !== 'expired',
      );
    });
  }

  /**
   * Reconciliation: preparing past the deadline -> failed and voided; ready past the hold ->
   * expired with the no-show fee, unless a pickup order is set (in flight or in `jam_hold`).
   */
  async expireDue(): Promise<void> {
    const now = this.deps.now().toISOString();
    await this.deps.store.transaction(async (tx) => {
      for (const r of await tx.reservations.listByStates(['preparing', 'ready'], 10_000)) {
        if (r.state === 'preparing' && r.prepareDeadline <= now)
          await this.deps.reservations.end(tx, r, 'failed', 'PREPARE_TIMEOUT', true);
        else if (r.state === 'ready' && r.holdUntil <= now && !r.orderId)
          await this.deps.reservations.end(
            tx,
            r,
            'expired',
            'HOLD_EXPIRED',
            true,
            this.deps.config.noShowFeeMinor,
          );
      }
    });
  }
}
