import { randomUUID } from 'node:crypto';
import type { EventDataOf } from '../../../protocol/index.js';
import type { HubEvent, KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type {
  CommandRecord,
  OrderRecord,
  OrderState,
  PaymentRecord,
  PaymentState,
  Store,
  Tx,
} from '../../store/types.js';
import type { Identity } from '../accounts/accounts.js';
import { type Actor, audit, SYSTEM } from '../audit/audit.js';
import type { Deposits } from '../billing/deposits.js';
import { paymentRefusal } from '../billing/deposits.js';
import type { Catalog } from '../catalog/catalog.js';
import type { RentalConfig } from '../config.js';
import { notFound, RentalError } from '../errors.js';
import type { RentalNotifier } from '../notifier.js';
import type { Payments } from '../payments/payments.js';
import type { CardInput } from '../payments/provider.js';
import type { Rentals } from '../rentals/rentals.js';
import { cancelReservationOnKiosk } from '../reservations/cancel-on-kiosk.js';
import { isActiveOrder, orderView } from './order-view.js';
import { requestHash } from './request-hash.js';

export interface OrdersDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  logger: Logger;
  payments: Payments;
  deposits: Deposits;
  catalog: Catalog;
  rentals: Rentals;
  notifier: RentalNotifier;
  now: () => Date;
}

export interface OrderInput {
  kioskId: string;
  diskTypeId: string;
  writeProtect: boolean;
  days: number;
  card: CardInput | { useSaved: true };
  /** Save the card (new card details only) once this payment is authorised. */
  saveCard?: boolean;
}

/** An order whose Dispense the kiosk may be running: its outcome (or the command's end) decides. */
const IN_FLIGHT_AT_KIOSK: readonly string[] = ['authorised', 'dispensing', 'kiosk_unreachable'];

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
  ) {
    const at = this.nowIso();
    const steps = [...o.steps, { at, state, message, ...(until ? { until } : {}) }];
    await tx.orders.update(o.id, { ...patch, state, steps, updatedAt: at });
    tx.afterCommit(() => this.deps.notifier.emit('order', o.id));
    return { ...o, ...patch, state, steps, updatedAt: at };
  }

  async get(who: Identity, id: string) {
    const o = await this.deps.store.transaction((tx) => tx.orders.get(id));
    if (!o || (o.userId !== who.userId && who.role !== 'operator' && who.role !== 'admin'))
      throw notFound(`order ${id}`);
    return orderView(o);
  }

  /**
   * Creates (or replays) an order. Same `idempotencyKey` + same body: the same order
   * (`created: false`); different body: IDEMPOTENCY_MISMATCH (409). Refusals: NOT_ALLOWED (403,
   * reasons), KIOSK_NOT_FOUND, KIOSK_OFFLINE, DISK_TYPE_NOT_OFFERED, NO_DISK_AVAILABLE,
   * CARD_DECLINED / INSUFFICIENT_FUNDS (402), PAYMENT_UNAVAILABLE (503).
   */
  async create(who: Identity, input: OrderInput, idempotencyKey: string, actor: Actor) {
    const hash = requestHash(input);
    const replay = await this.deps.store.transaction((tx) =>
      tx.orders.findByIdempotencyKey(who.userId, idempotencyKey),
    );
    if (replay) return this.replay(replay, hash);
    const card = await this.cardToken(who.userId, input.card);
    const now = this.deps.now();
    const created = await this.deps.store.transaction(async (tx) => {
      const again = await tx.orders.findByIdempotencyKey(who.userId, idempotencyKey);
      if (again) return { replay: again };
      await this.deps.deposits.assertMayRent(tx, who.userId);
      const type = await this.checkKioskAndType(tx, input);
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
      return { order };
    });
    if ('replay' in created && created.replay) return this.replay(created.replay, hash);
    const order = (created as { order: OrderRecord }).order;
    const auth = await this.deps.payments.authorise(order.paymentId!, card.token);
    if (!auth.ok) {
      await this.deps.store.transaction(async (tx) => {
        const o = (await tx.orders.get(order.id))!;
        await this.step(tx, o, 'failed', `payment refused: ${auth.message}`, {
          failureReason: auth.code,
        });
      });
      throw paymentRefusal(auth.code, auth.message);
    }
    await this.saveCardIfAsked(who.userId, input, card);
    try {
      // The order moves on and its Dispense is recorded in one transaction.
      await this.deps.store.transaction(async (tx) => {
        const o = (await tx.orders.get(order.id))!;
        const authorised =
          o.state === 'created'
            ? await this.step(
                tx,
                o,
                'authorised',
                'payment authorised; asking the kiosk to dispense',
                {},
              )
            : o;
        await this.dispatch(tx, authorised);
      });
    } catch (err) {
      this.deps.logger.error(
        { err, orderId: order.id },
        'could not record the Dispense command; reconciliation will void',
      );
      await this.deps.store.transaction(async (tx) => {
        const o = (await tx.orders.get(order.id))!;
        if (o.state === 'created')
          await this.step(
            tx,
            o,
            'authorised',
            'payment authorised; asking the kiosk to dispense',
            {},
          );
      });
    }
    return {
      order: orderView((await this.deps.store.transaction((tx) => tx.orders.get(order.id)))!),
      created: true,
    };
  }

  private async replay(o: OrderRecord, hash: string) {
    if (o.requestHash !== hash)
      throw new RentalError(
        'IDEMPOTENCY_MISMATCH',
        'this Idempotency-Key was used for a different order; use a new key',
        409,
      );
    if (o.state === 'failed' && o.failureReason && PAYMENT_CODES.has(o.failureReason))
      throw paymentRefusal(
        o.failureReason,
        `the payment for this order was refused (${o.failureReason})`,
      );
    return { order: orderView(o), created: false };
  }

  /**
   * The card to pay with: the saved one, or the new card's details tokenised (not saved:
   * see saveCardIfAsked).
   */
  async cardToken(
    userId: string,
    card: OrderInput['card'],
  ): Promise<{ token: string; last4?: string }> {
    if ('useSaved' in card) {
      const u = await this.deps.store.transaction((tx) => tx.users.get(userId));
      if (!u?.cardToken)
        throw new RentalError('NO_SAVED_CARD', 'no saved card; enter the card details', 400);
      return { token: u.cardToken };
    }
    return this.deps.deposits.tokenize(card);
  }

  /** After an authorised payment: saves new card details when the request asked to. */
  async saveCardIfAsked(
    userId: string,
    input: Pick<OrderInput, 'saveCard'>,
    card: { token: string; last4?: string },
  ): Promise<void> {
    if (input.saveCard && card.last4 !== undefined)
      await this.deps.deposits.saveCard(userId, { token: card.token, last4: card.last4 });
  }

  /**
   * Validates kiosk, disk type, days and write protection for an order or reservation, before
   * any money moves: KIOSK_NOT_FOUND (404); KIOSK_OFFLINE (409) when the kiosk cannot serve
   * (not connected, or silent for more than 3 heartbeat intervals: KioskCommands.canServe).
   */
  async checkKioskAndType(tx: Tx, input: Omit<OrderInput, 'card'>) {
    const kiosk = await tx.kiosks.get(input.kioskId);
    if (!kiosk || kiosk.revokedAt)
      throw new RentalError('KIOSK_NOT_FOUND', `kiosk ${input.kioskId} does not exist`, 404);
    if (!this.deps.kiosks.canServe(kiosk)) throw kioskOffline(input.kioskId);
    const type = (await this.deps.catalog.offered(tx, input.kioskId)).find(
      (d) => d.id === input.diskTypeId,
    );
    if (!type)
      throw new RentalError(
        'DISK_TYPE_NOT_OFFERED',
        `kiosk ${input.kioskId} does not offer ${input.diskTypeId}`,
        409,
      );
    if (input.days > type.maxDays)
      throw new RentalError('VALIDATION', `at most ${type.maxDays} days for this disk type`, 400);
    if (type.writeProtect === 'forced' && !input.writeProtect)
      throw new RentalError(
        'VALIDATION',
        'this disk type is always write-protected; send writeProtect: true',
        400,
      );
    if (type.writeProtect === 'off' && input.writeProtect)
      throw new RentalError(
        'VALIDATION',
        'this disk type cannot be write-protected; send writeProtect: false',
        400,
      );
    return type;
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

  /** DispenseCompleted (inside the event's transaction; its command is already settled). */
  async onDispenseCompleted(ev: HubEvent<'DispenseCompleted'>, tx: Tx): Promise<void> {
    const d: EventDataOf<'DispenseCompleted'> = ev.data;
    const taken = d.outcome === 'taken';
    const o = d.orderId
      ? await tx.orders.get(d.orderId)
      : await tx.orders.findByCommand(d.commandId);
    if (!o || o.kioskId !== ev.kioskId) return;
    const who: Actor = { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId };
    await audit(tx, who, this.nowIso(), `dispense.${d.outcome}`, o.id, {
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
      await this.step(
        tx,
        o,
        'jam_hold',
        `kiosk reported ${d.outcome}${d.reason ? `: ${d.reason}` : ''}; if the disk is pulled out of slot ${d.slot} within ${minutes} min it is rented to you and charged, ${otherwise}`,
        { diskId: d.diskId, slot: d.slot },
      );
      return;
    }
    if (!taken) {
      await this.fail(
        tx,
        o,
        `DISPENSE_${d.outcome.toUpperCase()}`,
        `kiosk reported ${d.outcome}${d.reason ? `: ${d.reason}` : ''}; payment released`,
        d.outcome !== 'not_taken',
      );
      return;
    }
    await this.taken(tx, o, p, { diskId: d.diskId, slot: d.slot }, 'disk taken; capturing payment');
  }

  /** Whether `o` is a walk-up order, or the pickup its reservation (still `ready`) waits on. */
  private async pickupStillOpen(tx: Tx, o: OrderRecord): Promise<boolean> {
    if (!o.reservationId) return true;
    const r = await tx.reservations.get(o.reservationId);
    return r?.state === 'ready' && r.orderId === o.id;
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
  ): Promise<void> {
    const d = where;
    const patch = { diskId: d.diskId, slot: d.slot };
    if (o.reservationId) {
      const r = await tx.reservations.get(o.reservationId);
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
    const rental = await this.deps.rentals.open(tx, cur, 0, null);
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
      await audit(tx, SYSTEM('orders'), this.nowIso(), `dispense.command_${c.state}`, o.id, {
        commandId: c.id,
      });
      await this.fail(
        tx,
        { ...o, commandId: o.commandId ?? c.id },
        reason,
        `Dispense ${c.state}${detail ? `: ${detail}` : ''}; payment released`,
      );
    });
  }

  listForUser(userId: string) {
    return this.deps.store.transaction(async (tx) =>
      (await tx.orders.listByUser(userId, 200)).map(orderView),
    );
  }

  listAll(limit: number) {
    return this.deps.store.transaction(async (tx) =>
      (await tx.orders.listRecent(limit)).map(orderView),
    );
  }
}

/** 409 KIOSK_OFFLINE: the kiosk cannot serve now (KioskCommands.canServe), so no money moves there. */
export function kioskOffline(kioskId: string): RentalError {
  return new RentalError(
    'KIOSK_OFFLINE',
    `kiosk ${kioskId} is offline (not connected, or no heartbeat for 3 intervals); try another kiosk`,
    409,
  );
}
