import { audit, SYSTEM } from '../../audit.js';
import type { HubEvent } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type { OrderRecord, Store, Tx } from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import type { Orders } from './orders.js';

export interface JamHoldsDeps {
  store: Store;
  config: RentalConfig;
  logger: Logger;
  orders: Orders;
  now: () => Date;
}

/** Slot states a technician clears a jam into with the disk still inside. */
const DISK_INSIDE = ['loaded', 'returned', 'ready'];

/**
 * Orders in `jam_hold` (the kiosk reported `jammed`, or `failed` with the slot left in `fault`;
 * Orders keeps the payment authorised), walk-up orders and reservation pickups alike:
 *  - claim(): a DiskRemoved from that kiosk's slot within `jamHoldSeconds` of the jam is the
 *    renter pulling the disk out: capture, rental for the order's renter, order completes (a
 *    pickup's reservation becomes `picked_up`);
 *  - the slot recovering with the disk inside (SlotStateChanged fault -> loaded/returned/ready)
 *    or the window passing (sweep(), every `reconcileIntervalMs` between start() and stop())
 *    fails the order DISPENSE_JAMMED and voids the payment (a pickup's reservation ends
 *    `failed`, no no-show fee).
 */
export class JamHolds {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly deps: JamHoldsDeps) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running = this.sweep().catch((err) =>
        this.deps.logger.warn({ err }, 'jam-hold sweep failed; retried at the next one'),
      );
    }, this.deps.config.reconcileIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a running sweep. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** When the hold of a `jam_hold` order ends. */
  holdUntil(o: OrderRecord): Date {
    const since = o.steps.findLast((s) => s.state === 'jam_hold')?.at ?? o.updatedAt;
    return new Date(Date.parse(since) + this.deps.config.jamHoldSeconds * 1000);
  }

  /**
   * DiskRemoved (inside the event's transaction): if the last order at that slot is held for a
   * jam of this disk and the window is open, the renter has it: capture and rent. Returns the
   * order it was charged to, or undefined (no hold; a hold past its window is released here).
   */
  async claim(tx: Tx, ev: HubEvent<'DiskRemoved'>): Promise<OrderRecord | undefined> {
    const d = ev.data;
    const o = await tx.orders.findLastAtSlot(ev.kioskId, d.slot);
    if (o?.state !== 'jam_hold') return undefined;
    const diskId = d.diskId ?? o.diskId;
    if (!diskId || (o.diskId && diskId !== o.diskId)) return undefined;
    if (this.deps.now() >= this.holdUntil(o)) {
      await this.release(tx, o, 'the jam-hold window passed');
      return undefined;
    }
    const p = o.paymentId ? await tx.payments.get(o.paymentId) : undefined;
    await audit(
      tx,
      { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId },
      this.deps.now().toISOString(),
      'dispense.taken_after_jam',
      o.id,
      { slot: d.slot, diskId, eventId: ev.eventId, reason: d.reason },
    );
    await this.deps.orders.taken(
      tx,
      o,
      p,
      { diskId, slot: d.slot },
      'disk pulled out of the jammed slot; capturing payment',
      ev.at,
    );
    return o;
  }

  /** SlotStateChanged: a jammed slot cleared with its disk inside ends the hold (void). */
  async onSlotStateChanged(ev: HubEvent<'SlotStateChanged'>, tx: Tx): Promise<void> {
    const d = ev.data;
    if (d.from !== 'fault' || !DISK_INSIDE.includes(d.to)) return;
    const o = await tx.orders.findLastAtSlot(ev.kioskId, d.slot);
    if (o?.state === 'jam_hold')
      await this.release(tx, o, `the slot recovered (${d.to}) with the disk inside`);
  }

  /** Ends every hold whose window has passed (void). */
  async sweep(): Promise<void> {
    const now = this.deps.now();
    await this.deps.store.transaction(async (tx) => {
      for (const o of await tx.orders.listByStates(['jam_hold'], 1000))
        if (now >= this.holdUntil(o))
          await this.release(tx, o, 'the disk was not pulled out within the jam-hold window');
    });
  }

  private async release(tx: Tx, o: OrderRecord, why: string): Promise<void> {
    await audit(
      tx,
      SYSTEM('jam-holds'),
      this.deps.now().toISOString(),
      'order.jam_hold_ended',
      o.id,
      {
        why,
      },
    );
    // A reservation's pickup ends its reservation too (failed, payment voided), as a jammed
    // pickup without a hold does: the disk is stuck in a faulted slot, not ready for it.
    await this.deps.orders.fail(
      tx,
      o,
      'DISPENSE_JAMMED',
      `kiosk reported jammed; ${why}; ${o.reservationId ? 'reservation ended, ' : ''}payment released`,
      true,
    );
  }
}
