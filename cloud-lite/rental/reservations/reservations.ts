import { randomUUID } from 'node:crypto';
import { type Actor, audit, SYSTEM } from '../../audit.js';
import type { KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type {
  ChargeRecord,
  OrderRecord,
  ReservationRecord,
  ReservationState,
  Store,
  Tx,
} from '../../store/types.js';
import type { Identity } from '../accounts/accounts.js';
import type { Deposits } from '../billing/deposits.js';
import type { RentalSettings } from '../billing/rental-settings.js';
import type { Catalog } from '../catalog/catalog.js';
import { type ReservationCandidate, unplacedReservations } from '../catalog/preparable.js';
import {
  type Checkout,
  type CheckoutFlow,
  kioskOffline,
  type OrderInput,
} from '../checkout/checkout.js';
import type { RentalConfig } from '../config.js';
import { notFound, RentalError } from '../errors.js';
import type { RentalNotifier } from '../notifier.js';
import { isActiveOrder, orderView } from '../orders/order-view.js';
import type { Orders } from '../orders/orders.js';
import type { Payments } from '../payments/payments.js';
import type { RenterEvents } from '../renter-events.js';
import { cancelReservationOnKiosk } from './cancel-on-kiosk.js';
import type { PickupCodes } from './pickup-codes.js';
import { reservationView } from './reservation-view.js';

export interface ReservationsDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  /** The late fee and lost-disk charge each sale keeps (stored rental settings). */
  settings: RentalSettings;
  logger: Logger;
  payments: Payments;
  deposits: Deposits;
  orders: Orders;
  catalog: Catalog;
  checkout: Checkout;
  notifier: RentalNotifier;
  now: () => Date;
  /** Pickup codes (docs/pickup-codes.md); absent: pickup needs the hub. */
  pickupCodes?: PickupCodes;
  /** Told about the no-show fee charged (a receipt); absent: nobody listens. */
  events?: RenterEvents;
}

/** Failure reasons of a refused payment that a replay answers with the refusal again. */
const PAYMENT_CODES: ReadonlySet<string> = new Set([
  'CARD_DECLINED',
  'INSUFFICIENT_FUNDS',
  'PAYMENT_UNAVAILABLE',
]);

/** What PrepareDisk names besides the reservation: the disk type, the slot claimed, the content. */
interface PrepareOrder {
  type: { capacityBytes: number };
  claim: ReservationCandidate;
  content: { id: string; version: string };
}

/**
 * Reservations (4th and 5th instructions): authorise, PrepareDisk, progress, ready with a hold
 * window, pickup by Dispense; PrepareFailed, a kiosk that cannot prepare in time, a renter's
 * cancel or an unclaimed hold end it and release the money (a no-show fee is captured).
 * What the kiosk reports and the clock decides is in reservation-outcomes.ts.
 */
export class Reservations {
  constructor(private readonly deps: ReservationsDeps) {
    deps.payments.onSettle('reservation', async (tx, p, state) => {
      const r = p.refId ? await tx.reservations.get(p.refId) : undefined;
      if (r?.state === 'expired' && state === 'captured') {
        const charge: ChargeRecord = {
          id: `chg-${randomUUID()}`,
          userId: r.userId,
          rentalId: null,
          reservationId: r.id,
          kind: 'reservation_no_show',
          amountMinor: p.capturedMinor,
          currency: p.currency,
          paymentId: p.id,
          at: this.nowIso(),
        };
        await tx.charges.insert(charge);
        await deps.events?.emit(tx, { type: 'charge', charge });
      }
      if (r) tx.afterCommit(() => deps.notifier.emit('reservation', r.id));
      await deps.orders.reservationSettle(tx, p, state);
    });
  }

  private nowIso(): string {
    return this.deps.now().toISOString();
  }

  private async mine(tx: Tx, who: Identity, id: string): Promise<ReservationRecord> {
    const r = await tx.reservations.get(id);
    if (!r || (r.userId !== who.userId && who.role !== 'operator' && who.role !== 'admin'))
      throw notFound(`reservation ${id}`);
    return r;
  }

  async get(who: Identity, id: string) {
    return this.viewFor(who, await this.deps.store.transaction((tx) => this.mine(tx, who, id)));
  }

  /** The API's view; its renter also sees the pickup code of a ready, armed reservation. */
  private viewFor(who: Pick<Identity, 'userId'>, r: ReservationRecord) {
    const code =
      r.userId === who.userId && r.state === 'ready' && r.pickupCodeCommandId
        ? this.deps.pickupCodes?.codeOf(r)
        : undefined;
    return reservationView(r, code);
  }

  /**
   * Creates (or replays, by Idempotency-Key: rental/checkout/) a reservation and sends
   * PrepareDisk naming the slot it claims. Refusals as for orders; NO_DISK_AVAILABLE (409) when
   * the kiosk has no disk the stock rules let it claim (catalog/preparable.ts). The slot is
   * chosen in the same transaction as the insert, before any money moves, so concurrent
   * reservations and orders never get the same disk.
   */
  async create(who: Identity, input: OrderInput, idempotencyKey: string, actor: Actor) {
    const { record, created } = await this.deps.checkout.run(
      who,
      input,
      idempotencyKey,
      this.flow(who, input, idempotencyKey, actor),
    );
    return { reservation: reservationView(record), created };
  }

  /** How a reservation checks out: a slot the stock rules let it claim, then PrepareDisk. */
  private flow(
    who: Identity,
    input: OrderInput,
    idempotencyKey: string,
    actor: Actor,
  ): CheckoutFlow<ReservationRecord> {
    const cfg = this.deps.config;
    let prepare: PrepareOrder | undefined;
    return {
      noun: 'reservation',
      purpose: 'reserve',
      refusalCodes: PAYMENT_CODES,
      find: (tx, userId, key) => tx.reservations.findByIdempotencyKey(userId, key),
      get: (tx, id) => tx.reservations.get(id),
      create: async (tx, { type, hash, now }) => {
        const candidates = await this.deps.catalog.reservationSlots(tx, input.kioskId, type);
        // Reservations made before the hub named slots still take a disk each.
        const claim =
          candidates.length > (await unplacedReservations(tx, input.kioskId))
            ? candidates[0]
            : undefined;
        if (!claim)
          throw new RentalError(
            'NO_DISK_AVAILABLE',
            `kiosk ${input.kioskId} has no free disk of at least ${type.capacityBytes} bytes to prepare now; try another kiosk`,
            409,
          );
        const id = `rsv-${randomUUID()}`;
        const amount = type.pricePerDayMinor * input.days;
        const p = this.deps.payments.newAuth(who.userId, 'reservation', id, amount, type.currency);
        await tx.payments.insert(p);
        const at = now.toISOString();
        const prepareDeadline = new Date(now.getTime() + cfg.prepareDeadlineSeconds * 1000);
        const r: ReservationRecord = {
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
          state: 'preparing',
          progress: null,
          slot: claim.slot.slot,
          diskId: (claim.slot.snapshot.diskId as string | undefined) ?? null,
          holdUntil: new Date(
            prepareDeadline.getTime() + cfg.holdWindowSeconds * 1000,
          ).toISOString(),
          prepareDeadline: prepareDeadline.toISOString(),
          failureReason: null,
          fees: [],
          paymentId: p.id,
          commandId: null,
          orderId: null,
          pickupCodeCommandId: null,
          ...(await this.deps.settings.soldTerms(tx)),
          createdAt: at,
          updatedAt: at,
        };
        await tx.reservations.insert(r);
        await audit(tx, { ...actor, kioskId: input.kioskId }, at, 'reservation.created', id, {
          amountMinor: amount,
          slot: claim.slot.slot,
          claim: claim.kind,
        });
        prepare = { type, claim, content: (await tx.content.get(type.contentId))! };
        return r;
      },
      refused: (tx, r, auth) => this.end(tx, r, 'failed', auth.code, false),
      authorised: (r) => this.sendPrepare(r, prepare!),
    };
  }

  /** Records PrepareDisk for a reservation whose payment is authorised, with its command id. */
  private async sendPrepare(r: ReservationRecord, { type, claim, content }: PrepareOrder) {
    try {
      await this.deps.store.transaction(async (tx) => {
        const cmd = await this.deps.kiosks.send(
          tx,
          r.kioskId,
          'PrepareDisk',
          {
            reservationId: r.id,
            contentId: content.id,
            contentVersion: content.version,
            minCapacityBytes: type.capacityBytes,
            writeProtect: r.writeProtect,
            holdUntil: r.holdUntil,
            slot: claim.slot.slot,
            // Only for a ready disk of other content, as the operator allows: the kiosk checks
            // the stock rule again against what it holds before it reformats.
            ...(claim.kind === 'reformat'
              ? { reformatReady: { keepReady: this.deps.config.keepReadyPerType } }
              : {}),
          },
          new Date(r.prepareDeadline),
        );
        await tx.reservations.update(r.id, { commandId: cmd.id });
      });
    } catch (err) {
      this.deps.logger.error(
        { err, reservationId: r.id },
        'could not record PrepareDisk; the prepare deadline will cancel',
      );
    }
  }

  /**
   * Ends a reservation (inside `tx`): state, reason, optional no-show fee (captured; the
   * rest released) or a void of the whole authorisation, and CancelReservation to the kiosk.
   */
  async end(
    tx: Tx,
    r: ReservationRecord,
    state: ReservationState,
    reason: string | null,
    tellKiosk: boolean,
    feeMinor = 0,
  ) {
    const at = this.nowIso();
    const fees = [...r.fees];
    const p = r.paymentId ? await tx.payments.get(r.paymentId) : undefined;
    const fee = p?.state === 'authorised' ? Math.min(feeMinor, p.amountMinor) : 0;
    if (fee > 0)
      fees.push({
        kind: 'reservation_no_show',
        amountMinor: fee,
        currency: r.currency,
        at,
        message: 'not picked up within the hold window',
      });
    await tx.reservations.update(r.id, {
      state,
      failureReason: reason,
      fees,
      updatedAt: at,
    });
    await audit(tx, SYSTEM('reservations'), at, `reservation.${state}`, r.id, {
      reason,
      feeMinor: fee,
    });
    tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
    if (p && fee > 0) {
      await this.deps.payments.settleIn(tx, p, 'capturing', { captureMinor: fee });
      tx.afterCommit(
        () =>
          void this.deps.payments
            .capture(p.id)
            .catch((err) =>
              this.deps.logger.warn({ err }, 'fee capture failed; reconciliation retries'),
            ),
      );
    } else await this.deps.orders.voidPayment(tx, r.paymentId);
    if (tellKiosk) await cancelReservationOnKiosk(tx, this.deps, r);
  }

  /** The renter cancels (free of charge) a preparing or ready reservation. */
  async cancel(who: Identity, id: string, actor: Actor) {
    await this.deps.store.transaction(async (tx) => {
      const r = await this.mine(tx, who, id);
      if (r.state !== 'preparing' && r.state !== 'ready')
        throw new RentalError(
          'RESERVATION_CLOSED',
          `reservation ${id} is ${r.state} and cannot be cancelled`,
          409,
        );
      if (r.orderId)
        throw new RentalError(
          'PICKUP_IN_PROGRESS',
          'the disk is being dispensed; it cannot be cancelled now',
          409,
        );
      if (r.state === 'ready' && r.pickupCodeCommandId) {
        const kiosk = await tx.kiosks.get(r.kioskId);
        if (!kiosk || !this.deps.kiosks.canServe(kiosk))
          throw new RentalError(
            'PICKUP_CODE_OFFLINE',
            `kiosk ${r.kioskId} is offline and may still hand out the disk against your pickup code; cancel once it is back online`,
            409,
          );
      }
      await audit(tx, actor, this.nowIso(), 'reservation.cancel_requested', id);
      await this.end(tx, r, 'cancelled', 'CANCELLED_BY_RENTER', true);
    });
    return this.get(who, id);
  }

  /** Pickup: dispenses a ready reservation's disk; returns the order the page follows. */
  async pickup(who: Identity, id: string, actor: Actor) {
    const order = await this.deps.store.transaction(async (tx) => {
      const r = await this.mine(tx, who, id);
      if (r.userId !== who.userId) throw notFound(`reservation ${id}`);
      if (r.state !== 'ready')
        throw new RentalError('RESERVATION_NOT_READY', `reservation ${id} is ${r.state}`, 409);
      if (r.orderId) {
        const existing = await tx.orders.get(r.orderId);
        // A pickup held for a jam is still this reservation's pickup: never a second Dispense.
        if (existing && (isActiveOrder(existing) || existing.state === 'completed'))
          return { existing };
      }
      const kiosk = await tx.kiosks.get(r.kioskId);
      if (!kiosk || !this.deps.kiosks.canServe(kiosk)) throw kioskOffline(r.kioskId);
      const at = this.nowIso();
      const o: OrderRecord = {
        id: `ord-${randomUUID()}`,
        userId: r.userId,
        idempotencyKey: null,
        requestHash: null,
        kioskId: r.kioskId,
        diskTypeId: r.diskTypeId,
        days: r.days,
        writeProtect: r.writeProtect,
        amountMinor: r.amountMinor,
        currency: r.currency,
        state: 'authorised',
        slot: r.slot,
        diskId: r.diskId,
        failureReason: null,
        paymentId: r.paymentId,
        commandId: null,
        reservationId: r.id,
        rentalId: null,
        // The terms shown when the reservation was paid.
        overdueFeePerDayMinor: r.overdueFeePerDayMinor ?? null,
        lostDiskChargeMinor: r.lostDiskChargeMinor ?? null,
        steps: [
          {
            at,
            state: 'authorised',
            message: `pickup of reservation ${r.id}; asking the kiosk to dispense`,
          },
        ],
        createdAt: at,
        updatedAt: at,
      };
      await tx.orders.insert(o);
      await tx.reservations.update(r.id, { orderId: o.id, updatedAt: at });
      await audit(tx, { ...actor, kioskId: r.kioskId }, at, 'reservation.pickup', r.id, {
        orderId: o.id,
      });
      tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
      // The pickup order and its Dispense commit together.
      await this.deps.orders.dispatch(tx, o);
      return { created: o };
    });
    const orderId = 'created' in order && order.created ? order.created.id : order.existing!.id;
    return this.deps.store.transaction(async (tx) => ({
      reservation: reservationView((await tx.reservations.get(id))!),
      order: orderView((await tx.orders.get(orderId))!),
    }));
  }

  listForUser(userId: string) {
    return this.deps.store.transaction(async (tx) =>
      (await tx.reservations.listByUser(userId, 200)).map((r) => this.viewFor({ userId }, r)),
    );
  }

  listAll(limit: number) {
    return this.deps.store.transaction(async (tx) =>
      (await tx.reservations.listRecent(limit)).map((r) => reservationView(r)),
    );
  }

  /** Ready reservations of a user at a kiosk (for the session answer). */
  async forSession(tx: Tx, userId: string, kioskId: string) {
    return (await tx.reservations.listByUser(userId, 50))
      .filter((r) => r.kioskId === kioskId && (r.state === 'ready' || r.state === 'preparing'))
      .map((r) => ({
        id: r.id,
        state: r.state,
        slot: r.slot ?? undefined,
        holdUntil: r.holdUntil,
        diskTypeId: r.diskTypeId,
        progress: r.progress ?? undefined,
      }));
  }
}
