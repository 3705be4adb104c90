import { type Actor, audit } from '../../audit.js';
import type { HubEvent, KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type { CommandRecord, ReservationRecord, Store, Tx } from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import type { RentalNotifier } from '../notifier.js';
import type { RenterEvents } from '../renter-events.js';
import { cancelReservationOnKiosk } from './cancel-on-kiosk.js';
import type { PickupCodes } from './pickup-codes.js';
import { overallPrepareProgress } from './prepare-progress.js';
import type { Reservations } from './reservations.js';

export interface ReservationOutcomesDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  logger: Logger;
  notifier: RentalNotifier;
  reservations: Reservations;
  now: () => Date;
  /** Pickup codes (docs/pickup-codes.md); absent: pickup needs the hub. */
  pickupCodes?: PickupCodes;
  /** Told when a reservation becomes ready (the renter's e-mail); absent: nobody listens. */
  events?: RenterEvents;
}

/**
 * How long past the end of a hold the hub still waits for a connected kiosk's own
 * ReservationExpired (its hold check runs every 15 s by default) before expiring on its own
 * clock a reservation whose pickup code the kiosk may honour.
 */
export const PICKUP_CODE_EXPIRY_GRACE_MS = 2 * 60 * 1000;
/** A hold ended this long ago with its kiosk still away raises PICKUP_AWAITING_KIOSK. */
export const PICKUP_AWAITING_KIOSK_FLAG_MS = 24 * 3600 * 1000;

/**
 * What moves a reservation besides the renter: the kiosk's reports (PrepareProgress,
 * PrepareCompleted: ready with its hold window; PrepareFailed: ended, payment released; the
 * kiosk ending it on its own), the PrepareDisk command ending with no outcome, and the clock
 * (prepare deadline, hold window). A reservation that becomes ready gets its pickup code armed
 * on the kiosk (pickup-codes.ts).
 */
export class ReservationOutcomes {
  constructor(private readonly deps: ReservationOutcomesDeps) {}

  async onPrepareProgress(ev: HubEvent<'PrepareProgress'>, tx: Tx) {
    const d = ev.data;
    const r = await tx.reservations.get(d.reservationId);
    if (!r || r.kioskId !== ev.kioskId || r.state !== 'preparing') return;
    // One bar for the whole preparation: each step fills its band (prepare-progress.ts).
    const percent = overallPrepareProgress(
      d.step,
      d.bytesDone,
      d.bytesTotal,
      r.progress?.percent ?? 0,
    );
    await tx.reservations.update(r.id, {
      progress: {
        step: d.step,
        bytesDone: d.bytesDone,
        bytesTotal: d.bytesTotal,
        percent,
        etaSeconds: d.etaSeconds,
      },
      ...(await this.follow(tx, r, d.slot)),
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
    await this.follow(tx, r, d.slot);
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
    const after = await tx.reservations.get(r.id);
    if (after) await this.deps.events?.emit(tx, { type: 'reservation_ready', reservation: after });
    // The code's slow hash is computed outside the event's transaction; arm() re-checks the
    // reservation and records ArmPickupCode with it in a transaction of its own.
    const ready = { ...r, state: 'ready' as const, slot: d.slot, diskId: d.diskId, holdUntil };
    const codes = this.deps.pickupCodes;
    if (codes) tx.afterCommit(() => void codes.arm(ready));
  }

  /**
   * The kiosk reports preparing `r` in `slot`. A kiosk without `prepare-slot` got PrepareDisk
   * without `slot` and chose its disk itself (docs/protocol.md, PrepareDisk), so the hub's
   * claim follows the kiosk: `r` takes `slot` (with the disk the hub's slot view has there) and
   * its old slot is released, or handed to another reservation at that kiosk that the hub had
   * placed in `slot` and whose kiosk has not reported its own choice yet (its PrepareDisk went
   * without `slot` too): no slot stays claimed by two reservations. A walk-up order promised
   * `slot` keeps it; the kiosk refuses its Dispense and the order fails and is voided.
   * Returns the fields to update on `r` (none when `slot` is already its claim).
   */
  private async follow(
    tx: Tx,
    r: ReservationRecord,
    slot: number,
  ): Promise<Pick<ReservationRecord, 'slot' | 'diskId'> | Record<string, never>> {
    if (r.slot === slot) return {};
    const view = await tx.slots.get(r.kioskId, slot);
    const diskId = (view?.snapshot.diskId as string | undefined) ?? null;
    const at = this.deps.now().toISOString();
    const other = (await tx.reservations.listByStates(['preparing'], 10_000)).find(
      (o) => o.id !== r.id && o.kioskId === r.kioskId && o.slot === slot && o.progress === null,
    );
    if (other) {
      await tx.reservations.update(other.id, { slot: r.slot, diskId: r.diskId, updatedAt: at });
      tx.afterCommit(() => this.deps.notifier.emit('reservation', other.id));
    }
    await audit(
      tx,
      { actor: `kiosk:${r.kioskId}`, kioskId: r.kioskId },
      at,
      'reservation.slot_moved',
      r.id,
      { from: r.slot, to: slot, ...(other ? { swappedWith: other.id } : {}) },
    );
    return { slot, diskId };
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
   * expired with the no-show fee, unless a pickup order is set (in flight or in `jam_hold`) or
   * its kiosk holds an armed pickup code and has not reported yet (awaitingKiosk).
   */
  async expireDue(): Promise<void> {
    const now = this.deps.now().toISOString();
    await this.deps.store.transaction(async (tx) => {
      for (const r of await tx.reservations.listByStates(['preparing', 'ready'], 10_000)) {
        if (r.state === 'preparing' && r.prepareDeadline <= now)
          await this.deps.reservations.end(tx, r, 'failed', 'PREPARE_TIMEOUT', true);
        else if (r.state === 'ready' && r.holdUntil <= now && !r.orderId) {
          if (await this.awaitingKiosk(tx, r)) continue;
          await this.deps.reservations.end(
            tx,
            r,
            'expired',
            'HOLD_EXPIRED',
            true,
            this.deps.config.noShowFeeMinor,
          );
        }
      }
    });
  }

  /**
   * Whether an ended hold must wait for its kiosk's events: the kiosk holds the pickup code
   * and may have honoured it offline, so no no-show fee until it reports (its own
   * ReservationExpired ends the reservation, a PickupCodeAccepted picks it up). A connected
   * kiosk gets PICKUP_CODE_EXPIRY_GRACE_MS; a kiosk away a day past the hold raises the
   * operator flag PICKUP_AWAITING_KIOSK (the authorisation may lapse meanwhile).
   */
  private async awaitingKiosk(tx: Tx, r: ReservationRecord): Promise<boolean> {
    if (!r.pickupCodeCommandId) return false;
    const nowMs = this.deps.now().getTime();
    const since = nowMs - Date.parse(r.holdUntil);
    const kiosk = await tx.kiosks.get(r.kioskId);
    const online = kiosk !== undefined && this.deps.kiosks.canServe(kiosk);
    if (online) return since < PICKUP_CODE_EXPIRY_GRACE_MS;
    if (since >= PICKUP_AWAITING_KIOSK_FLAG_MS)
      await tx.flags.raise(
        'PICKUP_AWAITING_KIOSK',
        r.id,
        `reservation ${r.id}: hold ended ${r.holdUntil}, kiosk ${r.kioskId} still offline; it may have dispensed against the pickup code, so the payment stays authorised until it reports`,
        this.deps.now().toISOString(),
      );
    return true;
  }
}
