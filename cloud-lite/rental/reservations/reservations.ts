import { randomUUID } from 'node:crypto';
import type { HubEvent, KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type {
  CommandRecord,
  OrderRecord,
  ReservationRecord,
  ReservationState,
  Store,
  Tx,
} from '../../store/types.js';
import type { Identity } from '../accounts/accounts.js';
import { type Actor, audit, SYSTEM } from '../audit/audit.js';
import type { Deposits } from '../billing/deposits.js';
import { paymentRefusal } from '../billing/deposits.js';
import type { Catalog } from '../catalog/catalog.js';
import { type ReservationCandidate, unplacedReservations } from '../catalog/preparable.js';
import type { RentalConfig } from '../config.js';
import { notFound, RentalError } from '../errors.js';
import type { RentalNotifier } from '../notifier.js';
import { isActiveOrder, orderView } from '../orders/order-view.js';
import { kioskOffline, type OrderInput, type Orders } from '../orders/orders.js';
import { requestHash } from '../orders/request-hash.js';
import type { Payments } from '../payments/payments.js';
import { cancelReservationOnKiosk } from './cancel-on-kiosk.js';
import { reservationView } from './reservation-view.js';

export interface ReservationsDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  logger: Logger;
  payments: Payments;
  deposits: Deposits;
  orders: Orders;
  catalog: Catalog;
  notifier: RentalNotifier;
  now: () => Date;
}

/**
 * Reservations (4th and 5th instructions): authorise, PrepareDisk, progress, ready with a hold
 * window, pickup by Dispense; PrepareFailed, a kiosk that cannot prepare in time, a renter's
 * cancel or an unclaimed hold end it and release the money (a no-show fee is captured).
 */
export class Reservations {
  constructor(private readonly deps: ReservationsDeps) {
    deps.payments.onSettle('reservation', async (tx, p, state) => {
      const r = p.refId ? await tx.reservations.get(p.refId) : undefined;
      if (r?.state === 'expired' && state === 'captured') {
        await tx.charges.insert({
          id: `chg-${randomUUID()}`,
          userId: r.userId,
          rentalId: null,
          reservationId: r.id,
          kind: 'reservation_no_show',
          amountMinor: p.capturedMinor,
          currency: p.currency,
          paymentId: p.id,
          at: this.nowIso(),
        });
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
    return reservationView(await this.deps.store.transaction((tx) => this.mine(tx, who, id)));
  }

  /**
   * Creates (or replays, by Idempotency-Key) a reservation and sends PrepareDisk naming the
   * slot it claims. Refusals as for orders; NO_DISK_AVAILABLE (409) when the kiosk has no disk
   * the stock rules let it claim (catalog/preparable.ts). The slot is chosen in the same
   * transaction as the insert, before any money moves, so concurrent reservations and orders
   * never get the same disk.
   */
  async create(who: Identity, input: OrderInput, idempotencyKey: string, actor: Actor) {
    const hash = requestHash(input);
    const replay = await this.deps.store.transaction((tx) =>
      tx.reservations.findByIdempotencyKey(who.userId, idempotencyKey),
    );
    if (replay) return this.replay(replay, hash);
    const card = await this.deps.orders.cardToken(who.userId, input.card);
    const now = this.deps.now();
    const cfg = this.deps.config;
    const created = await this.deps.store.transaction(async (tx) => {
      const again = await tx.reservations.findByIdempotencyKey(who.userId, idempotencyKey);
      if (again) return { replay: again };
      await this.deps.deposits.assertMayRent(tx, who.userId, 'reserve');
      const type = await this.deps.orders.checkKioskAndType(tx, input);
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
        holdUntil: new Date(prepareDeadline.getTime() + cfg.holdWindowSeconds * 1000).toISOString(),
        prepareDeadline: prepareDeadline.toISOString(),
        failureReason: null,
        fees: [],
        paymentId: p.id,
        commandId: null,
        orderId: null,
        createdAt: at,
        updatedAt: at,
      };
      await tx.reservations.insert(r);
      await audit(tx, { ...actor, kioskId: input.kioskId }, at, 'reservation.created', id, {
        amountMinor: amount,
        slot: claim.slot.slot,
        claim: claim.kind,
      });
      return { r, type, claim, content: (await tx.content.get(type.contentId))! };
    });
    if ('replay' in created && created.replay) return this.replay(created.replay, hash);
    const { r, type, claim, content } = created as {
      r: ReservationRecord;
      type: { capacityBytes: number };
      claim: ReservationCandidate;
      content: { id: string; version: string };
    };
    const auth = await this.deps.payments.authorise(r.paymentId!, card.token);
    if (!auth.ok) {
      await this.deps.store.transaction(async (tx) => this.end(tx, r, 'failed', auth.code, false));
      throw paymentRefusal(auth.code, auth.message);
    }
    await this.deps.orders.saveCardIfAsked(who.userId, input, card);
    try {
      // PrepareDisk and the reservation's command id commit together.
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
    return {
      reservation: reservationView(
        (await this.deps.store.transaction((tx) => tx.reservations.get(r.id)))!,
      ),
      created: true,
    };
  }

  private replay(r: ReservationRecord, hash: string) {
    if (r.requestHash !== hash)
      throw new RentalError(
        'IDEMPOTENCY_MISMATCH',
        'this Idempotency-Key was used for a different reservation; use a new key',
        409,
      );
    if (
      r.state === 'failed' &&
      r.failureReason &&
      ['CARD_DECLINED', 'INSUFFICIENT_FUNDS', 'PAYMENT_UNAVAILABLE'].includes(r.failureReason)
    )
      throw paymentRefusal(
        r.failureReason,
        `the payment for this reservation was refused (${r.failureReason})`,
      );
    return { reservation: reservationView(r), created: false };
  }

  /**
   * Ends a reservation (inside `tx`): state, reason, optional no-show fee (captured; the
   * rest released) or a void of the whole authorisation, and CancelReservation to the kiosk.
   */
  private async end(
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
      updatedAt: this.nowIso(),
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
    const at = this.nowIso();
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
      this.nowIso(),
      'prepare.failed',
      r.id,
      { code: d.code, reason: d.reason },
    );
    await this.end(tx, r, 'failed', `PREPARE_FAILED: ${d.code}`, false);
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
      await this.end(tx, r, 'expired', 'HOLD_EXPIRED', false, this.deps.config.noShowFeeMinor);
    else await this.end(tx, r, 'cancelled', 'CANCELLED_BY_KIOSK', false);
  }

  /** A PrepareDisk command ended without an outcome event (rejected, failed, expired). */
  async onCommandEnded(c: CommandRecord): Promise<void> {
    if (c.action !== 'PrepareDisk' || !['rejected', 'failed', 'expired'].includes(c.state)) return;
    const id = (c.payload as { reservationId?: string }).reservationId;
    if (!id) return;
    await this.deps.store.transaction(async (tx) => {
      const r = await tx.reservations.get(id);
      if (r?.state !== 'preparing') return;
      await this.end(
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
    const now = this.nowIso();
    await this.deps.store.transaction(async (tx) => {
      for (const r of await tx.reservations.listByStates(['preparing', 'ready'], 10_000)) {
        if (r.state === 'preparing' && r.prepareDeadline <= now)
          await this.end(tx, r, 'failed', 'PREPARE_TIMEOUT', true);
        else if (r.state === 'ready' && r.holdUntil <= now && !r.orderId)
          await this.end(tx, r, 'expired', 'HOLD_EXPIRED', true, this.deps.config.noShowFeeMinor);
      }
    });
  }

  listForUser(userId: string) {
    return this.deps.store.transaction(async (tx) =>
      (await tx.reservations.listByUser(userId, 200)).map(reservationView),
    );
  }

  listAll(limit: number) {
    return this.deps.store.transaction(async (tx) =>
      (await tx.reservations.listRecent(limit)).map(reservationView),
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
