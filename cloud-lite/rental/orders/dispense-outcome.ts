import type { EventDataOf } from '../../../protocol/index.js';
import { type Actor, audit, SYSTEM } from '../../audit.js';
import type { HubEvent } from '../../hub/kiosk-commands.js';
import type { CommandRecord, OrderRecord, Store, Tx } from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import type { Orders } from './orders.js';

export interface DispenseOutcomeDeps {
  store: Store;
  config: RentalConfig;
  orders: Orders;
  now: () => Date;
}

/** An order whose Dispense the kiosk may be running: its outcome (or the command's end) decides. */
const IN_FLIGHT_AT_KIOSK: readonly string[] = ['authorised', 'dispensing', 'kiosk_unreachable'];

/**
 * How a Dispense ends for its order: the kiosk's DispenseCompleted (taken: capture; jammed or a
 * failure that left the disk sticking out: a jam hold; otherwise fail and void), or the command
 * ending with no outcome (rejected, failed, expired: fail and void).
 */
export class DispenseOutcome {
  constructor(private readonly deps: DispenseOutcomeDeps) {}

  /** DispenseCompleted (inside the event's transaction; its command is already settled). */
  async onDispenseCompleted(ev: HubEvent<'DispenseCompleted'>, tx: Tx): Promise<void> {
    const d: EventDataOf<'DispenseCompleted'> = ev.data;
    const taken = d.outcome === 'taken';
    const o = d.orderId
      ? await tx.orders.get(d.orderId)
      : await tx.orders.findByCommand(d.commandId);
    if (!o || o.kioskId !== ev.kioskId) return;
    const who: Actor = { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId };
    await audit(tx, who, this.deps.now().toISOString(), `dispense.${d.outcome}`, o.id, {
      slot: d.slot,
      diskId: d.diskId,
      reason: d.reason,
    });
    if (o.state === 'completed') return;
    const p = o.paymentId ? await tx.payments.get(o.paymentId) : undefined;
    // A jam, or a failure that left the slot in fault (a retract or push that failed with the
    // board lost): the disk may stick out where the renter can pull it.
    const leftOut =
      d.outcome === 'jammed' ||
      (d.outcome === 'failed' && (await tx.slots.get(ev.kioskId, d.slot))?.state === 'fault');
    if (
      leftOut &&
      this.deps.config.jamHoldSeconds > 0 &&
      p?.state === 'authorised' &&
      IN_FLIGHT_AT_KIOSK.includes(o.state) &&
      (await this.pickupStillOpen(tx, o))
    ) {
      // The disk may stick out of the jammed slot: keep the authorisation for the jam-hold
      // window (JamHolds captures on a DiskRemoved, voids at expiry or when the slot recovers).
      // A reservation's pickup keeps its reservation `ready` with this order meanwhile: no
      // hold expiry, no-show fee or kiosk-side end touches it; the hold decides.
      const minutes = Math.ceil(this.deps.config.jamHoldSeconds / 60);
      const otherwise = o.reservationId
        ? 'otherwise the reservation ends and its payment is released'
        : 'otherwise the payment is released';
      await this.deps.orders.step(
        tx,
        o,
        'jam_hold',
        `kiosk reported ${d.outcome}${d.reason ? `: ${d.reason}` : ''}; if the disk is pulled out of slot ${d.slot} within ${minutes} min it is rented to you and charged, ${otherwise}`,
        { diskId: d.diskId, slot: d.slot },
      );
      return;
    }
    if (!taken) {
      await this.deps.orders.fail(
        tx,
        o,
        `DISPENSE_${d.outcome.toUpperCase()}`,
        `kiosk reported ${d.outcome}${d.reason ? `: ${d.reason}` : ''}; payment released`,
        d.outcome !== 'not_taken',
      );
      return;
    }
    await this.deps.orders.taken(
      tx,
      o,
      p,
      { diskId: d.diskId, slot: d.slot },
      'disk taken; capturing payment',
      ev.at,
    );
  }

  /** Whether `o` is a walk-up order, or the pickup its reservation (still `ready`) waits on. */
  private async pickupStillOpen(tx: Tx, o: OrderRecord): Promise<boolean> {
    if (!o.reservationId) return true;
    const r = await tx.reservations.get(o.reservationId);
    return r?.state === 'ready' && r.orderId === o.id;
  }

  /** A Dispense command ended without an outcome event (rejected, failed, expired): void. */
  async onCommandEnded(c: CommandRecord): Promise<void> {
    if (c.action !== 'Dispense' || !['rejected', 'failed', 'expired'].includes(c.state)) return;
    const orderId = (c.payload as { orderId?: string }).orderId;
    if (!orderId) return;
    await this.deps.store.transaction(async (tx) => {
      const o = await tx.orders.get(orderId);
      if (!o || !IN_FLIGHT_AT_KIOSK.includes(o.state)) return;
      const reason = c.state === 'expired' ? 'KIOSK_UNREACHABLE' : 'DISPENSE_REJECTED';
      const detail =
        (c.result as { reason?: string; description?: string } | null)?.reason ??
        (c.result as { description?: string } | null)?.description;
      await audit(
        tx,
        SYSTEM('orders'),
        this.deps.now().toISOString(),
        `dispense.command_${c.state}`,
        o.id,
        {
          commandId: c.id,
        },
      );
      await this.deps.orders.fail(
        tx,
        { ...o, commandId: o.commandId ?? c.id },
        reason,
        `Dispense ${c.state}${detail ? `: ${detail}` : ''}; payment released`,
      );
    });
  }
}
