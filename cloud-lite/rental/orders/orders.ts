import { randomUUID } from 'node:crypto';
import { type Actor, audit } from '../../audit.js';
import type { KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type {
  OrderRecord,
  OrderState,
  PaymentRecord,
  PaymentState,
  Store,
  Tx,
} from '../../store/types.js';
import type { Identity } from '../accounts/accounts.js';
import type { Deposits } from '../billing/deposits.js';
import { refundLine } from '../billing/operator-refunds.js';
import type { RentalSettings } from '../billing/rental-settings.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Checkout, CheckoutFlow, OrderInput } from '../checkout/checkout.js';
import type { RentalConfig } from '../config.js';
import { notFound, RentalError } from '../errors.js';
import type { RentalNotifier } from '../notifier.js';
import type { Payments } from '../payments/payments.js';
import type { Rentals } from '../rentals/rentals.js';
import { cancelReservationOnKiosk } from '../reservations/cancel-on-kiosk.js';
import { isActiveOrder, orderView } from './order-view.js';

export interface OrdersDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  /** The late fee and lost-disk charge each sale keeps (stored rental settings). */
  settings: RentalSettings;
  logger: Logger;
  payments: Payments;
  deposits: Deposits;
  catalog: Catalog;
  rentals: Rentals;
  checkout: Checkout;
  notifier: RentalNotifier;
  now: () => Date;
}

export type { OrderInput };

const PAYMENT_CODES = new Set([
  'CARD_DECLINED',
  'INSUFFICIENT_FUNDS',
  'PAYMENT_UNAVAILABLE',
  'PAYMENT_REFUSED',
]);

/**
 * Rent now (2nd and 3rd instructions): authorise, send a signed Dispense through the hub's
 * durable commands, capture only on DispenseCompleted `taken`, void on any other end.
 */
export class Orders {
  constructor(private readonly deps: OrdersDeps) {
    const settle = async (tx: Tx, p: PaymentRecord, state: PaymentState) => {
      const order = await this.orderOfPayment(tx, p);
      if (!order) return;
      if (state === 'captured' || state === 'capture_failed') await this.complete(tx, order, p);
      else tx.afterCommit(() => deps.notifier.emit('order', order.id));
    };
    deps.payments.onSettle('order', settle);
    this.reservationSettle = settle;
  }

  /** The reservation service forwards pickups' payment outcomes here. */
  readonly reservationSettle: (tx: Tx, p: PaymentRecord, state: PaymentState) => Promise<void>;

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  private async orderOfPayment(tx: Tx, p: PaymentRecord): Promise<OrderRecord | undefined> {
    if (p.purpose === 'order' && p.refId) return tx.orders.get(p.refId);
    if (p.purpose === 'reservation' && p.refId) {
      const r = await tx.reservations.get(p.refId);
      return r?.orderId ? tx.orders.get(r.orderId) : undefined;
    }
    return undefined;
  }

  /** Moves an order and appends a step (inside `tx`); notifies after commit. */
  async step(
    tx: Tx,
    o: OrderRecord,
    state: OrderState,
    message: string,
    patch: Partial<OrderRecord>,
    until?: string,
    takenAt?: string,
  ) {
    const at = this.nowIso();
    const steps = [
      ...o.steps,
      { at, state, message, ...(until ? { until } : {}), ...(takenAt ? { takenAt } : {}) },
    ];
    await tx.orders.update(o.id, { ...patch, state, steps, updatedAt: at });
    tx.afterCommit(() => this.deps.notifier.emit('order', o.id));
    return { ...o, ...patch, state, steps, updatedAt: at };
  }

  /** An order with the refunds of its payment (receipt lines). */
  async get(who: Identity, id: string) {
    const { o, refunds } = await this.deps.store.transaction(async (tx) => {
      const o = await tx.orders.get(id);
      const children = o?.paymentId ? await tx.payments.listChildren(o.paymentId) : [];
      return { o, refunds: children.filter((c) => c.kind === 'refund') };
    });
    if (!o || (o.userId !== who.userId && who.role !== 'operator' && who.role !== 'admin'))
      throw notFound(`order ${id}`);
    return {
      ...orderView(o),
      ...(refunds.length ? { refunds: refunds.map(refundLine) } : {}),
    };
  }

  /**
   * Creates (or replays) an order (rental/checkout/). Same `idempotencyKey` + same body: the
   * same order (`created: false`); different body: IDEMPOTENCY_MISMATCH (409). Refusals:
   * NOT_ALLOWED (403, reasons), KIOSK_NOT_FOUND, KIOSK_OFFLINE, DISK_TYPE_NOT_OFFERED,
   * NO_DISK_AVAILABLE, CARD_DECLINED / INSUFFICIENT_FUNDS (402), PAYMENT_UNAVAILABLE (503).
   */
  async create(who: Identity, input: OrderInput, idempotencyKey: string, actor: Actor) {
    const { record, created } = await this.deps.checkout.run(
      who,
      input,
      idempotencyKey,
      this.flow(who, input, idempotencyKey, actor),
    );
    return { order: orderView(record), created };
  }

  /** How an order checks out: a slot ready now, then the Dispense once authorised. */
  private flow(
    who: Identity,
    input: OrderInput,
    idempotencyKey: string,
    actor: Actor,
  ): CheckoutFlow<OrderRecord> {
    return {
      noun: 'order',
      purpose: 'rent',
      refusalCodes: PAYMENT_CODES,
      find: (tx, userId, key) => tx.orders.findByIdempotencyKey(userId, key),
      get: (tx, id) => tx.orders.get(id),
      create: async (tx, { type, hash, now }) => {
        const slot = (await this.deps.catalog.readySlots(tx, input.kioskId, type))[0];
        if (!slot)
          throw new RentalError(
            'NO_DISK_AVAILABLE',
            'no disk of this type is ready at this kiosk now; reserve one instead',
            409,
          );
        const id = `ord-${randomUUID()}`;
        const amount = type.pricePerDayMinor * input.days;
        const p = this.deps.payments.newAuth(who.userId, 'order', id, amount, type.currency);
        await tx.payments.insert(p);
        const at = now.toISOString();
        const order: OrderRecord = {
          id,
          userId: who.userId,
          idempotencyKey,
          requestHash: hash,
          kioskId: input.kioskId,
          diskTypeId: input.diskTypeId,
          days: input.days,
          writeProtect: input.writeProtect,
          amountMinor: amount,
          currency: type.currency,
          state: 'created',
          slot: slot.slot,
          diskId: (slot.snapshot.diskId as string | undefined) ?? null,
          failureReason: null,
          paymentId: p.id,
          commandId: null,
          reservationId: null,
          rentalId: null,
          ...(await this.deps.settings.soldTerms(tx)),
          steps: [
            {
              at,
              state: 'created',
              message: `order for slot ${slot.slot} created; authorising payment`,
            },
          ],
          createdAt: at,
          updatedAt: at,
        };
        await tx.orders.insert(order);
        await audit(tx, { ...actor, kioskId: input.kioskId }, at, 'order.created', id, {
          amountMinor: amount,
          slot: slot.slot,
        });
        return order;
      },
      refused: async (tx, order, auth) => {
        const o = (await tx.orders.get(order.id))!;
        await this.step(tx, o, 'failed', `payment refused: ${auth.message}`, {
          failureReason: auth.code,
        });
      },
      authorised: (order) => this.authorised(order.id),
    };
  }

  /** The order's payment is authorised: the order moves on and its Dispense is recorded, together. */
  private async authorised(orderId: string): Promise<void> {
    const message = 'payment authorised; asking the kiosk to dispense';
    try {
      await this.deps.store.transaction(async (tx) => {
        const o = (await tx.orders.get(orderId))!;
        await this.dispatch(
          tx,
          o.state === 'created' ? await this.step(tx, o, 'authorised', message, {}) : o,
        );
      });
    } catch (err) {
      this.deps.logger.error(
        { err, orderId },
        'could not record the Dispense command; reconciliation will void',
      );
      await this.deps.store.transaction(async (tx) => {
        const o = (await tx.orders.get(orderId))!;
        if (o.state === 'created') await this.step(tx, o, 'authorised', message, {});
      });
    }
  }

  /**
   * Records the signed Dispense for an authorised order inside `tx` (sent once `tx` committed)
   * and the order's command id; the order moves to `dispensing`.
   */
  async dispatch(tx: Tx, order: OrderRecord): Promise<void> {
    const deadline = new Date(
      this.deps.now().getTime() + this.deps.config.dispenseCommandTtlSeconds * 1000,
    );
    const cmd = await this.deps.kiosks.send(
      tx,
      order.kioskId,
      'Dispense',
      {
        slot: order.slot!,
        diskId: order.diskId ?? 'unknown',
        orderId: order.id,
        ...(order.reservationId ? { reservationId: order.reservationId } : {}),
        writeProtect: order.writeProtect,
        pickupWindowSeconds: this.deps.config.pickupWindowSeconds,
      },
      deadline,
    );
    if (order.state === 'authorised')
      await this.step(
        tx,
        order,
        'dispensing',
        `Dispense sent to kiosk ${order.kioskId}, slot ${order.slot}`,
        { commandId: cmd.id },
      );
    else await tx.orders.update(order.id, { commandId: cmd.id });
  }

  /**
   * Fails an order that has not dispensed (inside `tx`): the payment is voided after commit
   * (for a reservation's pickup, the reservation keeps its payment unless `releaseReservation`).
   */
  async fail(tx: Tx, o: OrderRecord, reason: string, message: string, releaseReservation = false) {
    if (!isActiveOrder(o)) return;
    await this.step(tx, o, 'failed', message, { failureReason: reason });
    if (o.reservationId) {
      const r = await tx.reservations.get(o.reservationId);
      if (r && r.orderId === o.id && r.state === 'ready') {
        if (!releaseReservation) {
          await tx.reservations.update(r.id, { orderId: null, updatedAt: this.nowIso() });
          tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
          return;
        }
        await tx.reservations.update(r.id, {
          state: 'failed',
          failureReason: reason,
          updatedAt: this.nowIso(),
        });
        tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
        // The kiosk may still hold the reservation (its slot faulted under it): end it there.
        await cancelReservationOnKiosk(tx, this.deps, r);
      }
    }
    await this.voidPayment(tx, o.paymentId);
  }

  /** Moves an authorised payment to `voiding` (inside `tx`) and voids it after commit. */
  async voidPayment(tx: Tx, paymentId: string | null) {
    if (!paymentId) return;
    const p = await tx.payments.get(paymentId);
    if (p?.state !== 'authorised') return;
    await this.deps.payments.settleIn(tx, p, 'voiding', {});
    tx.afterCommit(
      () =>
        void this.deps.payments
          .void(p.id)
          .catch((err) =>
            this.deps.logger.warn({ err, paymentId }, 'void failed; reconciliation retries'),
          ),
    );
  }

  /** The payment of a dispensed order settled (captured or refused): open the rental, complete. */
  private async complete(tx: Tx, o: OrderRecord, p: PaymentRecord) {
    if (o.rentalId) return;
    const rental = await this.deps.rentals.open(
      tx,
      o,
      p.capturedMinor || (p.captureMinor ?? o.amountMinor),
      p.id,
    );
    const message =
      p.state === 'captured'
        ? 'payment captured; rental open'
        : 'capture refused; rental open, payment flagged';
    if (o.state === 'completed') await tx.orders.update(o.id, { rentalId: rental.id });
    else await this.step(tx, o, 'completed', message, { rentalId: rental.id });
  }

  /**
   * The disk of order `o` (payment `p`) left the kiosk into the renter's hands (inside `tx`):
   * the reservation is picked up, the payment captured after commit (the settle hook then
   * opens the rental and completes the order); a payment no longer capturable opens the
   * rental all the same, flagged for an operator.
   */
  async taken(
    tx: Tx,
    o: OrderRecord,
    p: PaymentRecord | undefined,
    where: { diskId: string; slot: number },
    message: string,
    kioskAt?: string,
  ): Promise<void> {
    const d = where;
    const patch = { diskId: d.diskId, slot: d.slot };
    const r = o.reservationId ? await tx.reservations.get(o.reservationId) : undefined;
    const takenAt = plausibleKioskTime(kioskAt, r?.createdAt ?? o.createdAt, this.deps.now());
    if (o.reservationId) {
      if (r && r.state !== 'picked_up') {
        await tx.reservations.update(r.id, {
          state: 'picked_up',
          orderId: o.id,
          updatedAt: this.nowIso(),
        });
        tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
      }
    }
    if (p?.state === 'authorised') {
      const cur = await this.step(
        tx,
        o,
        o.state === 'failed' ? o.state : 'dispensing',
        message,
        patch,
        undefined,
        takenAt,
      );
      await this.deps.payments.settleIn(tx, p, 'capturing', { captureMinor: o.amountMinor });
      void cur;
      tx.afterCommit(
        () =>
          void this.deps.payments
            .capture(p.id)
            .catch((err) =>
              this.deps.logger.warn({ err }, 'capture failed; reconciliation retries'),
            ),
      );
      return;
    }
    // The payment is no longer capturable (voided after an expired command): the disk is out all
    // the same, so the rental opens and an operator settles the money.
    await tx.orders.update(o.id, patch);
    const cur = (await tx.orders.get(o.id))!;
    const rental = await this.deps.rentals.open(tx, cur, 0, null, takenAt);
    await this.step(
      tx,
      cur,
      cur.state,
      'disk taken after the payment was released; rental open, flagged for an operator',
      { rentalId: rental.id },
    );
    await tx.flags.raise(
      'TAKEN_WITHOUT_PAYMENT',
      o.id,
      `order ${o.id}: disk ${d.diskId} taken but payment ${p?.state ?? 'missing'}`,
      this.nowIso(),
    );
  }

  /**
   * The renter says the disk of this order never reached them ("I didn't get my disk"): raises
   * a NOT_RECEIVED flag for an operator (once per order) and audits it. Money is not moved here:
   * it moves only on what the kiosk reports (taken: captured; not taken or unreachable past
   * the hold: voided); the flag makes an operator look at a disagreement.
   */
  async reportNotReceived(who: Identity, id: string, actor: Actor) {
    return this.deps.store.transaction(async (tx) => {
      const o = await tx.orders.get(id);
      if (!o || o.userId !== who.userId) throw notFound(`order ${id}`);
      const at = this.nowIso();
      await tx.flags.raise(
        'NOT_RECEIVED',
        o.id,
        `order ${o.id} at kiosk ${o.kioskId}${o.slot ? ` slot ${o.slot}` : ''}: the renter reports no disk received (order ${o.state})`,
        at,
      );
      await audit(tx, { ...actor, kioskId: o.kioskId }, at, 'order.not_received', o.id, {
        state: o.state,
      });
      return orderView(o);
    });
  }

  listForUser(userId: string) {
    return this.deps.store.transaction(async (tx) =>
      (await tx.orders.listByUser(userId, 200)).map(orderView),
    );
  }

  /**
   * The newest orders (only those in `state` when given) as operators see them: with the renter
   * and the amount actually charged (captured minus refunded; 0 for an order whose payment was
   * never captured, e.g. a failed one).
   */
  listAll(limit: number, state?: OrderState) {
    return this.deps.store.transaction(async (tx) => {
      const out = [];
      for (const o of await tx.orders.listRecent(limit, state)) {
        const user = await tx.users.get(o.userId);
        const payment = o.paymentId ? await tx.payments.get(o.paymentId) : undefined;
        const refunded = payment
          ? (await tx.payments.listChildren(payment.id))
              .filter((c) => c.kind === 'refund' && c.state === 'refunded')
              .reduce((sum, c) => sum + c.amountMinor, 0)
          : 0;
        out.push({
          ...orderView(o),
          renter: {
            id: o.userId,
            label: user?.name || user?.email || user?.phone || o.userId,
          },
          chargedMinor: Math.max(0, (payment?.capturedMinor ?? 0) - refunded),
        });
      }
      return out;
    });
  }
}

/**
 * A kiosk's time stamp (its event's `at`) when it is plausible: not before `earliest` (the
 * order or its reservation was created) and not after the hub's `now`. A kiosk restarted
 * with a wrong clock (a Pi has no real-time clock) gives undefined: the hub's time is used.
 */
export function plausibleKioskTime(
  kioskAt: string | undefined,
  earliest: string,
  now: Date,
): string | undefined {
  if (!kioskAt) return undefined;
  const t = Date.parse(kioskAt);
  if (!Number.isFinite(t) || t < Date.parse(earliest) || t > now.getTime()) return undefined;
  return new Date(t).toISOString();
}
