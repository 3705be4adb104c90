/** One renter e-mail in the outbox (sent_notifications with a payload). */
export interface QueuedNotification {
  kind: string;
  subject: string;
  userId: string;
  /** When it was decided (and queued). */
  sentAt: string;
  /** What the mail says (the renderer's input), as queued. */
  payload: Record<string, unknown>;
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  failedAt: string | null;
  lastError: string | null;
}

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
  /**
   * Claims `kind`/`subject` and queues its mail (due at `at`) in one row: the dedupe record and
   * the outbox entry together. False (nothing queued) if it was claimed before.
   */
  enqueue(n: {
    kind: string;
    subject: string;
    userId: string;
    at: string;
    payload: Record<string, unknown>;
  }): Promise<boolean>;
  get(kind: string, subject: string): Promise<QueuedNotification | undefined>;
  /** Queued mails not delivered nor given up whose next attempt is due at `now`, oldest first. */
  due(now: string, limit: number): Promise<QueuedNotification[]>;
  delivered(kind: string, subject: string, at: string): Promise<void>;
  /** A failed attempt: counted, retried at `nextAttemptAt`, or given up (`failedAt`). */
  attemptFailed(
    kind: string,
    subject: string,
    f: { attempts: number; error: string; nextAttemptAt: string; failedAt: string | null },
  ): Promise<void>;
  optOut(userId: string, kind: string, at: string): Promise<void>;
  /** Takes an opt-out back (the renter wants that kind again). */
  optIn(userId: string, kind: string): Promise<void>;
  optedOut(userId: string, kind: string): Promise<boolean>;
  /** The kinds `userId` opted out of, sorted. */
  listOptOuts(userId: string): Promise<string[]>;
}

/** A "forgot password" token, kept as its SHA-256 hash. */
export interface PasswordResetRecord {
  tokenHash: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

export interface PasswordResetRepo {
  insert(r: PasswordResetRecord): Promise<void>;
  get(tokenHash: string): Promise<PasswordResetRecord | undefined>;
  /** Marks the token used; false if it was used already (single use, race-safe). */
  use(tokenHash: string, at: string): Promise<boolean>;
  /** Every unused token of `userId` becomes unusable (a reset happened; only the newest counts). */
  useAllOf(userId: string, at: string): Promise<void>;
}

/** A sent_notifications row as the stores read it. */
export interface NotificationRow {
  kind: string;
  subject: string;
  user_id: string;
  sent_at: string;
  payload: string | null;
  attempts: number;
  next_attempt_at: string | null;
  delivered_at: string | null;
  failed_at: string | null;
  last_error: string | null;
}

/** A sent_notifications row as the outbox sees it. */
export function queuedOf(r: NotificationRow): QueuedNotification {
  return {
    kind: r.kind,
    subject: r.subject,
    userId: r.user_id,
    sentAt: r.sent_at,
    payload: r.payload === null ? {} : (JSON.parse(r.payload) as Record<string, unknown>),
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    deliveredAt: r.delivered_at,
    failedAt: r.failed_at,
    lastError: r.last_error,
  };
}

export interface PasswordResetRow {
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** A password_resets row. */
export function resetOf(r: PasswordResetRow): PasswordResetRecord {
  return {
    tokenHash: r.token_hash,
    userId: r.user_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
  };
}
