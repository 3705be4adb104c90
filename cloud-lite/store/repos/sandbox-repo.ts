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

/** The sandbox payment provider's own books (rental/payments/sandbox/). */
export interface SandboxRepo {
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
}
