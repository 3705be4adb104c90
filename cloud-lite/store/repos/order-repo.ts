import type { SoldTerms } from './rental-settings-repo.js';
import type { Table } from './table.js';

export interface Step {
  at: string;
  state: string;
  message: string;
  /** `kiosk_unreachable`: when the payment is released unless the kiosk reports the disk taken. */
  until?: string;
  /**
   * The step that records the disk taken: when the kiosk saw it taken, by the kiosk's clock
   * (its event's `at`), kept only when it lies between the order's (or its reservation's)
   * creation and the hub's now. The rental starts then, not when the event reached the hub
   * (an offline pickup reports hours later; docs/pickup-codes.md).
   */
  takenAt?: string;
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
export interface OrderRecord extends SoldTerms {
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

/** Orders (rent now, and reservations' pickups). */
export interface OrderRepo extends Table<OrderRecord> {
  findByIdempotencyKey(userId: string, key: string): Promise<OrderRecord | undefined>;
  findByCommand(commandId: string): Promise<OrderRecord | undefined>;
  listByUser(userId: string, limit: number): Promise<OrderRecord[]>;
  listByStates(states: readonly OrderState[], limit: number): Promise<OrderRecord[]>;
  /** The newest orders first; only those in `state` when given. */
  listRecent(limit: number, state?: OrderState): Promise<OrderRecord[]>;
  /** The newest order that named `slot` at `kioskId`. */
  findLastAtSlot(kioskId: string, slot: number): Promise<OrderRecord | undefined>;
}
