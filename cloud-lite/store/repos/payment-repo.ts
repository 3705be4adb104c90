import type { Table } from './table.js';

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
  /** When the provider lets this authorisation lapse uncaptured (null: not told, or a refund). */
  authorisedUntil: string | null;
  /** A refund's reason as the operator gave it (the renter's receipt shows it); else null. */
  reason: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Payment intents and their outcomes (rental/payments/payments.ts). */
export interface PaymentRepo extends Table<PaymentRecord> {
  findByProviderRef(provider: string, ref: string): Promise<PaymentRecord | undefined>;
  listByState(states: readonly PaymentState[], updatedBefore: string): Promise<PaymentRecord[]>;
  listByRef(refId: string): Promise<PaymentRecord[]>;
  listChildren(parentId: string): Promise<PaymentRecord[]>;
  listByUser(userId: string): Promise<PaymentRecord[]>;
  /** Payments still `authorised` whose authorisation lapses at or before `before`, soonest first. */
  listLapsingBefore(before: string): Promise<PaymentRecord[]>;
}
