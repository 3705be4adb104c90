/**
 * Pickup codes (issue 24, docs/pickup-codes.md): when a reservation is ready its renter gets an
 * 8-digit code to type on the kiosk's keypad, and the kiosk gets, in a signed ArmPickupCode, a
 * salted scrypt hash of it bound to kiosk, slot, reservation and expiry, so it can dispense
 * with no hub. The code is derived from the hub's signing key (a deterministic Ed25519
 * signature over the reservation's binding), so it is never stored: a copy of the database
 * does not reveal it.
 */
import { type KeyObject, randomUUID, sign } from 'node:crypto';
import {
  DEFAULT_PICKUP_SCRYPT,
  type EventDataOf,
  hashPickupCode,
  kioskFeatures,
  type PickupCodeBinding,
} from '../../../protocol/index.js';
import { audit } from '../../audit.js';
import type { HubEvent, KioskCommands } from '../../hub/kiosk-commands.js';
import type { Logger } from '../../log.js';
import type {
  CommandRecord,
  OrderRecord,
  ReservationRecord,
  Store,
  Tx,
} from '../../store/types.js';
import type { RentalConfig } from '../config.js';
import type { RentalNotifier } from '../notifier.js';

export interface PickupCodesDeps {
  store: Store;
  kiosks: KioskCommands;
  config: RentalConfig;
  logger: Logger;
  notifier: RentalNotifier;
  now: () => Date;
  /** The hub's Ed25519 signing key; absent: no pickup codes (the kiosk needs the hub). */
  key?: KeyObject | undefined;
  /** scrypt cost (tests lower it); default N = 2^15, r = 8, p = 1. */
  cost?: { N: number; r: number; p: number };
}

/** The binding of a ready reservation's code (its slot, kiosk and hold end). */
export function bindingOf(r: ReservationRecord): PickupCodeBinding | undefined {
  if (r.slot === null) return undefined;
  return { kioskId: r.kioskId, slot: r.slot, reservationId: r.id, codeExpiresAt: r.holdUntil };
}

export class PickupCodes {
  constructor(private readonly deps: PickupCodesDeps) {}

  get enabled(): boolean {
    return this.deps.key !== undefined;
  }

  /** The renter's 8-digit code for `r` as it is now (undefined without a key or a slot). */
  codeOf(r: ReservationRecord): string | undefined {
    const b = bindingOf(r);
    if (!this.deps.key || !b) return undefined;
    const text = ['disk-kiosk pickup code', b.kioskId, b.slot, b.reservationId, b.codeExpiresAt];
    const sig = sign(null, Buffer.from(text.join('\n'), 'utf8'), this.deps.key);
    const n = BigInt(`0x${sig.subarray(0, 16).toString('hex')}`) % 100_000_000n;
    return n.toString().padStart(8, '0');
  }

  /**
   * Sends the kiosk the code's hash (ArmPickupCode, deadline the end of the hold): the command
   * and its id on the reservation commit together, and only while the reservation is still
   * ready with the same hold. Never rejects: a failure leaves pickup to the hub. A kiosk whose
   * software does not list `arm-pickup-code` gets none (its renter picks up by QR code).
   */
  async arm(r: ReservationRecord): Promise<void> {
    const code = this.codeOf(r);
    const b = bindingOf(r);
    const diskId = r.diskId;
    if (!code || !b || !diskId) return;
    try {
      const kiosk = await this.deps.store.read((q) => q.kiosks.get(r.kioskId));
      if (!kioskFeatures(kiosk?.features).has('arm-pickup-code')) return;
      const codeHash = await hashPickupCode(code, b, this.deps.cost ?? DEFAULT_PICKUP_SCRYPT);
      await this.deps.store.transaction(async (tx) => {
        const cur = await tx.reservations.get(r.id);
        if (cur?.state !== 'ready' || cur.holdUntil !== r.holdUntil || cur.orderId) return;
        const cmd = await this.deps.kiosks.send(
          tx,
          r.kioskId,
          'ArmPickupCode',
          {
            reservationId: r.id,
            slot: b.slot,
            diskId,
            writeProtect: r.writeProtect,
            pickupWindowSeconds: this.deps.config.pickupWindowSeconds,
            codeExpiresAt: b.codeExpiresAt,
            codeHash,
          },
          new Date(b.codeExpiresAt),
        );
        await tx.reservations.update(r.id, { pickupCodeCommandId: cmd.id });
        tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
      });
    } catch (err) {
      this.deps.logger.warn(
        { err, reservationId: r.id },
        'could not arm the pickup code; pickup needs the hub',
      );
    }
  }

  /**
   * An ArmPickupCode the kiosk refused or failed (no keypad, slot moved): the code is not
   * relied on. Its expiry at the end of the hold is its normal end and changes nothing.
   */
  async onCommandEnded(c: CommandRecord): Promise<void> {
    if (c.action !== 'ArmPickupCode' || !['rejected', 'failed'].includes(c.state)) return;
    const reservationId = (c.payload as { reservationId?: string }).reservationId;
    if (!reservationId) return;
    await this.deps.store.transaction(async (tx) => {
      const r = await tx.reservations.get(reservationId);
      if (r?.pickupCodeCommandId !== c.id) return;
      await tx.reservations.update(r.id, { pickupCodeCommandId: null });
      tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
    });
  }

  /**
   * PickupCodeAccepted: the kiosk is dispensing the reservation's disk against its code (now,
   * or while it was offline). The reservation's pickup order opens with the kiosk's commandId
   * (once: a repeat finds it), so its DispenseCompleted settles the payment authorised at
   * reservation exactly as for a pickup the hub asked for.
   */
  async onAccepted(ev: HubEvent<'PickupCodeAccepted'>, tx: Tx): Promise<void> {
    const d: EventDataOf<'PickupCodeAccepted'> = ev.data;
    const r = await tx.reservations.get(d.reservationId);
    if (!r || r.kioskId !== ev.kioskId) return;
    if (await tx.orders.findByCommand(d.commandId)) return;
    const at = this.deps.now().toISOString();
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
      state: 'dispensing',
      slot: d.slot,
      diskId: d.diskId,
      failureReason: null,
      paymentId: r.paymentId,
      commandId: d.commandId,
      reservationId: r.id,
      rentalId: null,
      // The terms shown when the reservation was paid.
      overdueFeePerDayMinor: r.overdueFeePerDayMinor ?? null,
      lostDiskChargeMinor: r.lostDiskChargeMinor ?? null,
      steps: [
        {
          at,
          state: 'dispensing',
          message: `pickup code typed at kiosk ${r.kioskId} (${ev.at}); the kiosk is dispensing`,
        },
      ],
      createdAt: at,
      updatedAt: at,
    };
    await tx.orders.insert(o);
    await tx.reservations.update(r.id, { orderId: o.id, updatedAt: at });
    await audit(
      tx,
      { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId },
      at,
      'pickup_code.accepted',
      r.id,
      { orderId: o.id, commandId: d.commandId, typedAt: ev.at, reservationState: r.state },
    );
    if (r.state !== 'ready')
      this.deps.logger.warn(
        { reservationId: r.id, state: r.state },
        'the kiosk honoured a pickup code of a reservation the hub had ended',
      );
    tx.afterCommit(() => this.deps.notifier.emit('reservation', r.id));
  }

  /** PickupCodeRefused: into the audit log (per kiosk; per reservation when named). */
  async onRefused(ev: HubEvent<'PickupCodeRefused'>, tx: Tx): Promise<void> {
    const d: EventDataOf<'PickupCodeRefused'> = ev.data;
    await audit(
      tx,
      { actor: `kiosk:${ev.kioskId}`, kioskId: ev.kioskId },
      this.deps.now().toISOString(),
      'pickup_code.refused',
      d.reservationId ?? ev.kioskId,
      { ...d, typedAt: ev.at },
    );
    if (d.lockedUntil)
      this.deps.logger.warn(
        { kioskId: ev.kioskId, lockedUntil: d.lockedUntil },
        'wrong pickup codes: the kiosk locked its keypad',
      );
  }
}
