import type { KioskCommands } from '../../hub/kiosk-commands.js';
import type { DiskTypeRecord, Store, Tx } from '../../store/types.js';
import type { Identity } from '../accounts/accounts.js';
import type { Deposits } from '../billing/deposits.js';
import { paymentRefusal } from '../billing/deposits.js';
import type { Catalog } from '../catalog/catalog.js';
import { RentalError } from '../errors.js';
import type { AuthoriseOutcome, Payments } from '../payments/payments.js';
import type { PayWith } from '../payments/provider.js';
import { requestHash } from './request-hash.js';

/** What a renter sends to rent now (an order) or to reserve ahead (a reservation). */
export interface OrderInput {
  kioskId: string;
  diskTypeId: string;
  writeProtect: boolean;
  days: number;
  card: PayWith | { useSaved: true };
  /** Save the card (new card details only) once this payment is authorised. */
  saveCard?: boolean;
}

/** What every checkout record keeps of its request and payment. */
export interface CheckoutRecord {
  id: string;
  requestHash: string | null;
  state: string;
  failureReason: string | null;
  paymentId: string | null;
}

/**
 * One kind of checkout (orders, reservations): how its records are found by idempotency key,
 * created, refused and carried on once the payment is authorised.
 */
export interface CheckoutFlow<R extends CheckoutRecord> {
  /** `order` or `reservation`: named in the refusals. */
  noun: string;
  /** What the renter's standing is checked for (Deposits.assertMayRent). */
  purpose: 'rent' | 'reserve';
  /** Failure reasons of a refused payment that a replay answers with the refusal again. */
  refusalCodes: ReadonlySet<string>;
  find(tx: Tx, userId: string, idempotencyKey: string): Promise<R | undefined>;
  /** The record as stored now. */
  get(tx: Tx, id: string): Promise<R | undefined>;
  /** Inserts the record and its `authorising` payment inside `tx` (kiosk and type checked). */
  create(tx: Tx, c: { type: DiskTypeRecord; hash: string; now: Date }): Promise<R>;
  /** The payment was refused: the record fails (inside `tx`). */
  refused(tx: Tx, r: R, auth: Extract<AuthoriseOutcome, { ok: false }>): Promise<void>;
  /** The payment is authorised: the next step and the kiosk's command. */
  authorised(r: R): Promise<void>;
}

export interface CheckoutDeps {
  store: Store;
  kiosks: KioskCommands;
  payments: Payments;
  deposits: Deposits;
  catalog: Catalog;
  now: () => Date;
}

/**
 * The idempotent checkout that orders and reservations share: replay by Idempotency-Key (same
 * body: the same record; another body: IDEMPOTENCY_MISMATCH), the card to pay with, the
 * renter's standing and the kiosk and disk type checked and the record created in one
 * transaction before any money moves, the authorisation (a refusal fails the record), the card
 * saved if asked, then the flow's next step.
 */
export class Checkout {
  constructor(private readonly deps: CheckoutDeps) {}

  /** Creates (or replays) a record of `flow`, as stored at the end; `created: false` for a replay. */
  async run<R extends CheckoutRecord>(
    who: Identity,
    input: OrderInput,
    idempotencyKey: string,
    flow: CheckoutFlow<R>,
  ): Promise<{ record: R; created: boolean }> {
    const { store } = this.deps;
    const hash = requestHash(input);
    const replay = await store.transaction((tx) => flow.find(tx, who.userId, idempotencyKey));
    if (replay) return this.replay(flow, replay, hash);
    const card = await this.cardToken(who.userId, input.card);
    const now = this.deps.now();
    const made = await store.transaction(async (tx) => {
      const again = await flow.find(tx, who.userId, idempotencyKey);
      if (again) return { again };
      await this.deps.deposits.assertMayRent(tx, who.userId, flow.purpose);
      const type = await this.checkKioskAndType(tx, input);
      return { record: await flow.create(tx, { type, hash, now }) };
    });
    if (made.again) return this.replay(flow, made.again, hash);
    const record = made.record!;
    const save = input.saveCard && !('useSaved' in input.card);
    const auth = await this.deps.payments.authorise(
      record.paymentId!,
      card.token,
      save ? { saveFor: { userId: who.userId, last4: card.last4 } } : {},
    );
    if (!auth.ok) {
      await store.transaction((tx) => flow.refused(tx, record, auth));
      throw paymentRefusal(auth.code, auth.message);
    }
    if (auth.saved) await this.deps.deposits.saveCard(who.userId, auth.saved);
    await flow.authorised(record);
    return { record: (await store.transaction((tx) => flow.get(tx, record.id)))!, created: true };
  }

  private replay<R extends CheckoutRecord>(flow: CheckoutFlow<R>, r: R, hash: string) {
    if (r.requestHash !== hash)
      throw new RentalError(
        'IDEMPOTENCY_MISMATCH',
        `this Idempotency-Key was used for a different ${flow.noun}; use a new key`,
        409,
      );
    if (r.state === 'failed' && r.failureReason && flow.refusalCodes.has(r.failureReason))
      throw paymentRefusal(
        r.failureReason,
        `the payment for this ${flow.noun} was refused (${r.failureReason})`,
      );
    return { record: r, created: false };
  }

  /**
   * The card to pay with: the saved one, or a payment-method id from the provider's card form
   * (the hub never sees card details). Saved only once authorised, when asked.
   */
  private async cardToken(
    userId: string,
    card: OrderInput['card'],
  ): Promise<{ token: string; last4?: string }> {
    if ('useSaved' in card) {
      const u = await this.deps.store.transaction((tx) => tx.users.get(userId));
      if (!u?.cardToken)
        throw new RentalError('NO_SAVED_CARD', 'no saved card; enter the card details', 400);
      return { token: u.cardToken };
    }
    return { token: card.paymentMethod };
  }

  /**
   * Validates kiosk, disk type, days and write protection for an order or reservation, before
   * any money moves: KIOSK_NOT_FOUND (404); KIOSK_OFFLINE (409) when the kiosk cannot serve
   * (not connected, or silent for more than 3 heartbeat intervals: KioskCommands.canServe).
   */
  private async checkKioskAndType(
    tx: Tx,
    input: Omit<OrderInput, 'card'>,
  ): Promise<DiskTypeRecord> {
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
}

/** 409 KIOSK_OFFLINE: the kiosk cannot serve now (KioskCommands.canServe), so no money moves there. */
export function kioskOffline(kioskId: string): RentalError {
  return new RentalError(
    'KIOSK_OFFLINE',
    `kiosk ${kioskId} is offline (not connected, or no heartbeat for 3 intervals); try another kiosk`,
    409,
  );
}
