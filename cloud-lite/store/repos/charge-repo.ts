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

/** What a renter was charged, and why. */
export interface ChargeRepo {
  insert(c: ChargeRecord): Promise<void>;
  listByRental(rentalId: string): Promise<ChargeRecord[]>;
}
