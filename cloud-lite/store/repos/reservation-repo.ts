import type { SoldTerms } from './rental-settings-repo.js';
import type { Table } from './table.js';

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
export interface ReservationRecord extends SoldTerms {
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
  /** The ArmPickupCode that sent the code's hash to the kiosk (docs/pickup-codes.md), or null. */
  pickupCodeCommandId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface ReservationRepo extends Table<ReservationRecord> {
  findByIdempotencyKey(userId: string, key: string): Promise<ReservationRecord | undefined>;
  listByUser(userId: string, limit: number): Promise<ReservationRecord[]>;
  listByStates(states: readonly ReservationState[], limit: number): Promise<ReservationRecord[]>;
  listRecent(limit: number): Promise<ReservationRecord[]>;
}
