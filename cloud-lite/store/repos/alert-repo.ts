export type AlertState = 'open' | 'acknowledged' | 'resolved';
export type AlertSeverity = 'warning' | 'critical';

export interface AlertRecord {
  id: number;
  /** What kind of cause: `kiosk_offline`, `slot_fault`, ... (cloud-lite/alerts/kinds.ts). */
  kind: string;
  /** One live alert per key: the kind and its subject, e.g. `slot_fault:k1:3`. */
  dedupeKey: string;
  kioskId: string | null;
  severity: AlertSeverity;
  message: string;
  details: Record<string, unknown> | null;
  state: AlertState;
  openedAt: string;
  /** When the cause was last seen true. */
  lastSeenAt: string;
  acknowledgedAt: string | null;
  /** `user:<id>`, `admin-token`. */
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  /** `user:<id>`, `admin-token`, or `system:alerts` when the fact cleared. */
  resolvedBy: string | null;
  /** Last time operators were told (opened or re-notified). */
  notifiedAt: string | null;
  notifyCount: number;
}

export interface RaiseInput {
  kind: string;
  dedupeKey: string;
  kioskId: string | null;
  severity: AlertSeverity;
  message: string;
  details: Record<string, unknown> | null;
  at: string;
}

/** A queued webhook delivery of one alert change (the signed webhook's outbox). */
export interface AlertDeliveryRecord {
  id: number;
  alertId: number;
  /** `opened`, `reminder`, `acknowledged`, `resolved`. */
  event: string;
  /** The JSON body, signed as sent. */
  body: Record<string, unknown>;
  createdAt: string;
  attempts: number;
  nextAttemptAt: string;
  deliveredAt: string | null;
  failedAt: string | null;
  lastError: string | null;
}

/** Operators' alerts: one live (open or acknowledged) alert per dedupe key. */
export interface AlertRepo {
  /**
   * Opens an alert for `dedupeKey`, or, if one is live, updates its message, details and
   * `lastSeenAt`. `created` tells which.
   */
  raise(a: RaiseInput): Promise<{ alert: AlertRecord; created: boolean }>;
  get(id: number): Promise<AlertRecord | undefined>;
  /** The live alert of `dedupeKey`, if any. */
  live(dedupeKey: string): Promise<AlertRecord | undefined>;
  /** Live alerts (of `kind`, if given), oldest first. */
  listLive(kind?: string): Promise<AlertRecord[]>;
  /** Alerts in `states`, newest first, at most `limit`. */
  list(states: readonly AlertState[], limit: number): Promise<AlertRecord[]>;
  /** open -> acknowledged; false if it was not open. */
  acknowledge(id: number, by: string, at: string): Promise<boolean>;
  /** open/acknowledged -> resolved; false if it was already resolved. */
  resolve(id: number, by: string, at: string): Promise<boolean>;
  markNotified(id: number, at: string): Promise<void>;
  countLive(): Promise<number>;

  enqueueDelivery(d: {
    alertId: number;
    event: string;
    body: Record<string, unknown>;
    at: string;
  }): Promise<void>;
  /** Deliveries not delivered nor given up whose next attempt is due at `at`, oldest first. */
  dueDeliveries(at: string, limit: number): Promise<AlertDeliveryRecord[]>;
  deliveryDone(id: number, at: string): Promise<void>;
  /** Another attempt at `nextAttemptAt`, or, with `failedAt`, given up. */
  deliveryFailed(
    id: number,
    r: { attempts: number; error: string; nextAttemptAt: string; failedAt: string | null },
  ): Promise<void>;
  deliveries(alertId: number): Promise<AlertDeliveryRecord[]>;
}
