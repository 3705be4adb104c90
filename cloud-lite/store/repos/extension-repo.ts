import type { Table } from './table.js';

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

export interface ExtensionRepo extends Table<ExtensionRecord> {
  findByPayment(paymentId: string): Promise<ExtensionRecord | undefined>;
  findByIdempotencyKey(userId: string, key: string): Promise<ExtensionRecord | undefined>;
  listByRental(rentalId: string): Promise<ExtensionRecord[]>;
}
