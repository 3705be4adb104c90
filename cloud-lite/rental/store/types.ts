/**
 * Repositories of the rental domain. Asynchronous like the hub's (a PostgreSQL store can
 * implement them unchanged); every method runs inside `store.transaction` and sees `tx.rental`.
 */

export type Role = 'renter' | 'technician' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['renter', 'technician', 'operator', 'admin'];

export interface UserRecord {
  id: string;
  email: string | null;
  phone: string | null;
  name: string | null;
  role: Role;
  passwordHash: string;
  cardToken: string | null;
  cardLast4: string | null;
  createdAt: string;
}

export interface SessionRecord {
  tokenHash: Buffer;
  userId: string;
  createdAt: string;
  expiresAt: string;
  ip: string | null;
  revokedAt: string | null;
}

/** A registration waiting for the link sent to its e-mail or phone (token stored hashed). */
export interface PendingRegistrationRecord {
  tokenHash: Buffer;
  email: string | null;
  phone: string | null;
  name: string | null;
  passwordHash: string;
  createdAt: string;
  expiresAt: string;
  ip: string | null;
}

export type DepositEntryKind = 'topup' | 'refund' | 'charge' | 'credit';
export interface DepositEntryRecord {
  id: string;
  userId: string;
  kind: DepositEntryKind;
  /** Signed: topup/credit positive, refund/charge negative. */
  amountMinor: number;
  currency: string;
  paymentId: string | null;
  rentalId: string | null;
  at: string;
  note: string | null;
}

export type PaymentState =
  | 'authorising'
  | 'authorised'
  | 'declined'
  | 'failed'
  | 'capturing'
  | 'captured'
  | 'capture_failed'
  | 'voiding'
  | 'voided'
  | 'refunding'
  | 'refunded'
  | 'refund_failed';

export type PaymentPurpose = 'order' | 'reservation' | 'deposit' | 'extension' | 'refund';

export interface PaymentRecord {
  id: string;
  userId: string;
  provider: string;
  /** The provider's id of this payment (null until the provider answered). */
  providerRef: string | null;
  kind: 'auth' | 'refund';
  /** For a refund: the payment refunded. */
  parentId: string | null;
  purpose: PaymentPurpose;
  /** Order, reservation, rental or deposit entry this payment belongs to. */
  refId: string | null;
  amountMinor: number;
  capturedMinor: number;
  /** Amount of a capture intent (state capturing). */
  captureMinor: number | null;
  currency: string;
  state: PaymentState;
  /** Capture at once after authorisation (deposit top-up, extension). */
  captureAfterAuth: boolean;
  failureCode: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ContentRecord {
  id: string;
  title: string;
  version: string;
  sizeBytes: number;
  description: string;
}

export type WriteProtectPolicy = 'allowed' | 'forced' | 'off';
export interface DiskTypeRecord {
  id: string;
  capacityBytes: number;
  contentId: string;
  writeProtect: WriteProtectPolicy;
  pricePerDayMinor: number;
  currency: string;
  defaultDays: number;
  maxDays: number;
  /** Kiosks offering this type; null: every kiosk. */
  kioskIds: string[] | null;
}

export interface KioskSiteRecord {
  kioskId: string;
  name: string;
  address: string;
  lat: number;
  lng: number;
}

export interface Step {
  at: string;
  state: string;
  message: string;
  /** `kiosk_unreachable`: when the payment is released unless the kiosk reports the disk taken. */
  until?: string;
}

export type OrderState =
  | 'created'
  | 'authorised'
  | 'dispensing'
  /**
   * The kiosk reported a jam: the payment stays authorised for the jam-hold window in case the
   * disk is pulled out of the jammed slot (DiskRemoved -> capture, rental); then voided.
   */
  | 'jam_hold'
  /**
   * The kiosk holding the order in flight went offline: the payment stays authorised until
   * the step's `until` for the kiosk to come back and report (taken -> capture; not -> void).
   */
  | 'kiosk_unreachable'
  | 'completed'
  | 'failed'
  | 'cancelled';
export interface OrderRecord {
  id: string;
  userId: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  kioskId: string;
  diskTypeId: string;
  days: number;
  writeProtect: boolean;
  amountMinor: number;
  currency: string;
  state: OrderState;
  slot: number | null;
  diskId: string | null;
  failureReason: string | null;
  paymentId: string | null;
  commandId: string | null;
  reservationId: string | null;
  rentalId: string | null;
  steps: Step[];
  createdAt: string;
  updatedAt: string;
}

export type ReservationState =
  | 'preparing'
  | 'ready'
  | 'picked_up'
  | 'cancelled'
  | 'expired'
  | 'failed';
export interface ReservationProgress {
  step: string;
  bytesDone: number;
  bytesTotal: number;
  percent: number;
  etaSeconds: number;
}
export interface Fee {
  kind: string;
  amountMinor: number;
  currency: string;
  at: string;
  message: string;
}
export interface ReservationRecord {
  id: string;
  userId: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  kioskId: string;
  diskTypeId: string;
  days: number;
  writeProtect: boolean;
  amountMinor: number;
  currency: string;
  state: ReservationState;
  progress: ReservationProgress | null;
  slot: number | null;
  diskId: string | null;
  holdUntil: string;
  prepareDeadline: string;
  failureReason: string | null;
  fees: Fee[];
  paymentId: string | null;
  commandId: string | null;
  orderId: string | null;
  createdAt: string;
  updatedAt: string;
}

export type RentalState = 'open' | 'returned' | 'overdue' | 'lost';
export interface RentalRecord {
  id: string;
  userId: string;
  orderId: string;
  diskId: string;
  diskTypeId: string;
  kioskId: string;
  startedAt: string;
  dueAt: string;
  returnedAt: string | null;
  returnKioskId: string | null;
  state: RentalState;
  overdueDaysCharged: number;
}

export type ExtensionState = 'pending' | 'applied' | 'failed';
/** One extension request of a rental (see migration 005). */
export interface ExtensionRecord {
  id: string;
  rentalId: string;
  userId: string;
  idempotencyKey: string | null;
  days: number;
  amountMinor: number;
  currency: string;
  /** Null when taken from the deposit. */
  paymentId: string | null;
  /** pending: being paid (its days already count against maxDays); applied; failed. */
  state: ExtensionState;
  createdAt: string;
  updatedAt: string;
}

export type ChargeKind =
  | 'rental'
  | 'extension'
  | 'overdue'
  | 'lost'
  | 'lost_reversed'
  | 'reservation_no_show';
export interface ChargeRecord {
  id: string;
  userId: string;
  rentalId: string | null;
  reservationId: string | null;
  kind: ChargeKind;
  amountMinor: number;
  currency: string;
  paymentId: string | null;
  at: string;
}

export interface AuditRecord {
  id?: number;
  at: string;
  /** `user:<id>`, `kiosk:<id>`, `system:<job>`, `admin-token`. */
  actor: string;
  action: string;
  subject: string | null;
  kioskId: string | null;
  ip: string | null;
  details: Record<string, unknown> | null;
}

export interface FlagRecord {
  id: number;
  kind: string;
  subject: string;
  message: string;
  createdAt: string;
  resolvedAt: string | null;
}

/** A disk that left a kiosk slot with no order to bill: flagged for the operator until returned. */
export interface MissingDiskRecord {
  id: string;
  /** The DiskRemoved event that reported it (one record per event). */
  eventId: string;
  /** Null when the kiosk did not know which disk it was. */
  diskId: string | null;
  kioskId: string;
  slot: number;
  /** The slot's state when the disk went (`fault`, `ready`, ...). */
  slotState: string;
  reason: string;
  /** The service door when it went (open: a technician's removal); null: unknown. */
  door: 'open' | 'closed' | null;
  /** The last order at that slot, when there was one (ended failed, jammed, not taken...). */
  orderId: string | null;
  flaggedAt: string;
  clearedAt: string | null;
  /** What cleared it, e.g. `returned at k2`. */
  clearedBy: string | null;
}

export interface SandboxPaymentRecord {
  id: string;
  reference: string;
  cardToken: string;
  amountMinor: number;
  currency: string;
  state: 'authorised' | 'captured' | 'voided' | 'refunded' | 'partially_refunded';
  capturedMinor: number;
  refundedMinor: number;
  /** How many capture operations took money (must never exceed 1). */
  captures: number;
  createdAt: string;
  updatedAt: string;
}

export interface SandboxLedgerEntry {
  id: number;
  paymentId: string;
  op: 'authorise' | 'capture' | 'void' | 'refund';
  amountMinor: number;
  at: string;
}

/** Simple keyed-table access shared by most rental tables. */
export interface Table<T, K = string> {
  insert(rec: T): Promise<void>;
  get(id: K): Promise<T | undefined>;
  update(id: K, patch: Partial<T>): Promise<void>;
}

export interface RentalRepos {
  users: Table<UserRecord> & {
    findByLogin(login: string): Promise<UserRecord | undefined>;
    count(): Promise<number>;
  };
  sessions: {
    insert(s: SessionRecord): Promise<void>;
    get(tokenHash: Buffer): Promise<SessionRecord | undefined>;
    revoke(tokenHash: Buffer, at: string): Promise<void>;
  };
  /** Throttle hits (login attempts, registrations) by key: `acct-ip:`, `acct:`, `ip:`, `register:`. */
  loginFailures: {
    add(key: string, at: string): Promise<void>;
    /** Hits of `key` at or after `since`, oldest first. */
    since(key: string, since: string): Promise<string[]>;
    clear(key: string): Promise<void>;
    /** Removes one hit of `key` at `at` (an attempt that turned out good). */
    removeOne(key: string, at: string): Promise<void>;
    /** Removes the hits older than `before` of `key`, or of every key. */
    prune(before: string, key?: string): Promise<void>;
  };
  pendingRegistrations: {
    insert(r: PendingRegistrationRecord): Promise<void>;
    get(tokenHash: Buffer): Promise<PendingRegistrationRecord | undefined>;
    remove(tokenHash: Buffer): Promise<void>;
    /** Removes registrations that expired before `at`. */
    removeExpired(at: string): Promise<void>;
  };
  deposits: {
    insert(e: DepositEntryRecord): Promise<void>;
    balance(userId: string): Promise<number>;
    list(userId: string): Promise<DepositEntryRecord[]>;
  };
  payments: Table<PaymentRecord> & {
    findByProviderRef(provider: string, ref: string): Promise<PaymentRecord | undefined>;
    listByState(states: readonly PaymentState[], updatedBefore: string): Promise<PaymentRecord[]>;
    listByRef(refId: string): Promise<PaymentRecord[]>;
    listChildren(parentId: string): Promise<PaymentRecord[]>;
    listByUser(userId: string): Promise<PaymentRecord[]>;
  };
  webhookEvents: {
    /** False when already recorded. */
    insertIfNew(provider: string, eventId: string, at: string): Promise<boolean>;
  };
  content: Table<ContentRecord> & { list(): Promise<ContentRecord[]> };
  diskTypes: Table<DiskTypeRecord> & { list(): Promise<DiskTypeRecord[]> };
  sites: {
    upsert(s: KioskSiteRecord): Promise<void>;
    get(kioskId: string): Promise<KioskSiteRecord | undefined>;
    list(): Promise<KioskSiteRecord[]>;
  };
  orders: Table<OrderRecord> & {
    findByIdempotencyKey(userId: string, key: string): Promise<OrderRecord | undefined>;
    findByCommand(commandId: string): Promise<OrderRecord | undefined>;
    listByUser(userId: string, limit: number): Promise<OrderRecord[]>;
    listByStates(states: readonly OrderState[], limit: number): Promise<OrderRecord[]>;
    listRecent(limit: number): Promise<OrderRecord[]>;
    /** The newest order that named `slot` at `kioskId`. */
    findLastAtSlot(kioskId: string, slot: number): Promise<OrderRecord | undefined>;
  };
  missingDisks: {
    /** False (nothing written) when the event was already recorded. */
    insertIfNew(rec: MissingDiskRecord): Promise<boolean>;
    /** Open (not cleared) records, oldest first. */
    listOpen(limit: number): Promise<MissingDiskRecord[]>;
    /** Clears every open record of `diskId`; returns how many. */
    clearDisk(diskId: string, at: string, by: string): Promise<number>;
  };
  reservations: Table<ReservationRecord> & {
    findByIdempotencyKey(userId: string, key: string): Promise<ReservationRecord | undefined>;
    listByUser(userId: string, limit: number): Promise<ReservationRecord[]>;
    listByStates(states: readonly ReservationState[], limit: number): Promise<ReservationRecord[]>;
    listRecent(limit: number): Promise<ReservationRecord[]>;
  };
  rentals: Table<RentalRecord> & {
    findByOrder(orderId: string): Promise<RentalRecord | undefined>;
    findUnreturnedByDisk(diskId: string): Promise<RentalRecord | undefined>;
    listByUser(userId: string): Promise<RentalRecord[]>;
    listByStates(states: readonly RentalState[]): Promise<RentalRecord[]>;
  };
  extensions: Table<ExtensionRecord> & {
    findByPayment(paymentId: string): Promise<ExtensionRecord | undefined>;
    findByIdempotencyKey(userId: string, key: string): Promise<ExtensionRecord | undefined>;
    listByRental(rentalId: string): Promise<ExtensionRecord[]>;
  };
  charges: {
    insert(c: ChargeRecord): Promise<void>;
    listByRental(rentalId: string): Promise<ChargeRecord[]>;
  };
  audit: {
    insert(a: AuditRecord): Promise<void>;
    list(limit: number): Promise<AuditRecord[]>;
  };
  flags: {
    /** Raises a flag (no-op when the same kind+subject is already open). */
    raise(kind: string, subject: string, message: string, at: string): Promise<void>;
    resolve(kind: string, subject: string, at: string): Promise<void>;
    listOpen(): Promise<FlagRecord[]>;
  };
  sandbox: {
    insertPayment(p: SandboxPaymentRecord): Promise<void>;
    getPayment(id: string): Promise<SandboxPaymentRecord | undefined>;
    findByReference(reference: string): Promise<SandboxPaymentRecord | undefined>;
    updatePayment(id: string, patch: Partial<SandboxPaymentRecord>): Promise<void>;
    listPayments(): Promise<SandboxPaymentRecord[]>;
    addLedger(e: Omit<SandboxLedgerEntry, 'id'>): Promise<void>;
    ledger(): Promise<SandboxLedgerEntry[]>;
    insertCard(token: string, number: string, last4: string): Promise<void>;
    getCard(token: string): Promise<{ token: string; number: string; last4: string } | undefined>;
    getIdempotent(key: string): Promise<{ operation: string; result: unknown } | undefined>;
    putIdempotent(key: string, operation: string, result: unknown): Promise<void>;
  };
}
