/** Renter notifications: sent once per kind and subject; the kinds a renter opted out of. */
export interface NotificationRepo {
  /**
   * Records that notification `kind` about `subject` (a rental, a reservation, a charge) went
   * to `userId`; false if it had been recorded already (then it must not be sent again).
   */
  claim(n: { kind: string; subject: string; userId: string; at: string }): Promise<boolean>;
  /** Forgets a claim (the send failed: the next run tries again). */
  unclaim(kind: string, subject: string): Promise<void>;
  wasSent(kind: string, subject: string): Promise<boolean>;
  optOut(userId: string, kind: string, at: string): Promise<void>;
  optedOut(userId: string, kind: string): Promise<boolean>;
}
