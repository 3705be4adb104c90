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

/** The deposits' ledger: one signed entry per movement; a balance is their sum. */
export interface DepositRepo {
  insert(e: DepositEntryRecord): Promise<void>;
  balance(userId: string): Promise<number>;
  list(userId: string): Promise<DepositEntryRecord[]>;
}
