export interface EnrolmentTokenRecord {
  tokenHash: Buffer;
  kioskId: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

/** One-time enrolment tokens of kiosks (stored hashed). */
export interface EnrolmentTokenRepo {
  insert(t: Omit<EnrolmentTokenRecord, 'usedAt'>): Promise<void>;
  get(tokenHash: Buffer): Promise<EnrolmentTokenRecord | undefined>;
  markUsed(tokenHash: Buffer, at: string): Promise<void>;
  /** Invalidates every unused token of a kiosk (revocation, or a newer token issued). */
  invalidateForKiosk(kioskId: string, at: string): Promise<void>;
}
