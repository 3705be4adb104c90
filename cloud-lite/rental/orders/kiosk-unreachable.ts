import { audit, SYSTEM } from '../../audit.js';
import type { KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type { KioskRecord, OrderRecord, Store, Tx } from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import type { Orders } from './orders.js';

export interface KioskUnreachableDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  logger: Logger;
  orders: Orders;
  now: () => Date;
}

/** Orders whose Dispense a kiosk may be running, and so may be lost with it. */
const AT_KIOSK = ['authorised', 'dispensing'] as const;

/**
 * Tells the renter when the kiosk holding their order in flight drops (kioskd killed, power
 * or link lost), instead of "Take your disk" for as long as it stays away. Every sweep
 * (between start() and stop(), about twice per `kioskUnreachableAfterSeconds`):
 *  - an `authorised`/`dispensing` order whose kiosk cannot serve (KioskCommands.canServe) and has
 *    not been heard from for `kioskUnreachableAfterSeconds` moves to `kiosk_unreachable`, with
 *    the time its payment will be released (the step's `until`; the order API's `releaseAt`).
 *    The payment stays authorised: the disk may be in the renter's hand;
 *  - such an order whose kiosk serves again goes back to `dispensing` (waiting for its report);
 *  - past `until` with the kiosk still away: the order fails KIOSK_UNREACHABLE, the payment is
 *    voided (a reservation's pickup ends its reservation too, as a jam hold's end does).
 * The kiosk's own report settles the order as ever (Orders.onDispenseCompleted, which takes
 * `kiosk_unreachable` like `dispensing`): kioskd settles an interrupted dispense by its slot
 * sensor at start, so after a reconnect taken -> captured once, not taken -> voided.
 */
export class KioskUnreachable {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly deps: KioskUnreachableDeps) {}

  start(): void {
    const every = Math.max(250, (this.deps.config.kioskUnreachableAfterSeconds * 1000) / 2);
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return; // a slow sweep is not queued behind itself
      busy = true;
      this.running = this.sweep()
        .catch((err) =>
          this.deps.logger.warn({ err }, 'kiosk-unreachable sweep failed; retried at the next one'),
        )
        .finally(() => {
          busy = false;
        });
    }, every);
    this.timer.unref();
  }

  /** Stops the timer and waits for a running sweep. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over the orders in flight at kiosks (see the class comment). */
  async sweep(): Promise<void> {
    const { kiosks, config, orders } = this.deps;
    const graceMs = config.kioskUnreachableAfterSeconds * 1000;
    await this.deps.store.transaction(async (tx) => {
      const seen = new Map<string, KioskRecord | undefined>();
      const kiosk = async (id: string) => {
        if (!seen.has(id)) seen.set(id, await tx.kiosks.get(id));
        return seen.get(id);
      };
      const list = await tx.orders.listByStates([...AT_KIOSK, 'kiosk_unreachable'], 10_000);
      for (const o of list) {
        const k = await kiosk(o.kioskId);
        if (!k) continue;
        const serving = kiosks.canServe(k);
        if (o.state !== 'kiosk_unreachable') {
          if (!serving && kiosks.silentForMs(k) >= graceMs) await this.mark(tx, o);
        } else if (serving) {
          await orders.step(
            tx,
            o,
            'dispensing',
            `kiosk ${o.kioskId} is back online; waiting for its report on the dispense`,
            {},
          );
        } else if (this.deps.now().getTime() >= Date.parse(this.until(o))) {
          await audit(
            tx,
            SYSTEM('kiosk-unreachable'),
            this.nowIso(),
            'order.unreachable_released',
            o.id,
            {
              kioskId: o.kioskId,
            },
          );
          await orders.fail(
            tx,
            o,
            'KIOSK_UNREACHABLE',
            `kiosk ${o.kioskId} did not come back in time; ${o.reservationId ? 'reservation ended, ' : ''}payment released`,
            true,
          );
        }
      }
    });
  }

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  /** The release time of an order in (or entering) `kiosk_unreachable`. */
  private until(o: OrderRecord): string {
    return o.steps.findLast((s) => s.state === 'kiosk_unreachable')?.until ?? this.nowIso();
  }

  /**
   * Moves `o` to `kiosk_unreachable` (inside `tx`). Its payment is released at the latest
   * `kioskUnreachableHoldSeconds` after the kiosk was first lost under this order, or at the
   * Dispense's own deadline while the kiosk has not accepted it (the command then expires and
   * the order is voided).
   */
  private async mark(tx: Tx, o: OrderRecord) {
    const first = o.steps.find((s) => s.state === 'kiosk_unreachable')?.at ?? this.nowIso();
    let until = Date.parse(first) + this.deps.config.kioskUnreachableHoldSeconds * 1000;
    const cmd = o.commandId ? await tx.commands.get(o.commandId) : undefined;
    if (cmd && (cmd.state === 'pending' || cmd.state === 'sent'))
      until = Math.min(until, Date.parse(cmd.deadline));
    else if (!cmd)
      // Not sent yet: it will be, with this deadline (or reconciliation voids it then).
      until = Math.min(
        until,
        this.deps.now().getTime() + this.deps.config.dispenseCommandTtlSeconds * 1000,
      );
    const releaseAt = new Date(until).toISOString();
    await audit(tx, SYSTEM('kiosk-unreachable'), this.nowIso(), 'order.kiosk_unreachable', o.id, {
      kioskId: o.kioskId,
      releaseAt,
    });
    await this.deps.orders.step(
      tx,
      o,
      'kiosk_unreachable',
      `kiosk ${o.kioskId} went offline during the dispense; if you took the disk it is rented to you once the kiosk reports it, otherwise the payment is released at ${releaseAt}`,
      {},
      releaseAt,
    );
  }
}
