import { type Static, Type } from '@sinclair/typebox';

/**
 * Alerts for operators (cloud-lite/alerts/, docs/alerts-and-notifications.md): thresholds of
 * the facts that raise them, how often they are re-told, and where they go.
 */
export const AlertsConfigSchema = Type.Object(
  {
    /** How often the facts are looked at (and due webhook deliveries sent). */
    sweepIntervalMs: Type.Integer({ minimum: 10, default: 15_000 }),
    /** A kiosk offline (no connection, not heard from) this long raises `kiosk_offline`. */
    offlineAfterSeconds: Type.Number({ minimum: 0.01, default: 300 }),
    /** An open (unacknowledged) alert is told again this often. */
    renotifyIntervalSeconds: Type.Number({ minimum: 1, default: 3600 }),
    /** A kiosk whose Heartbeat reports its content cache fuller than this (percent) raises `cache_full`. */
    cacheFullPercent: Type.Number({ minimum: 1, maximum: 100, default: 90 }),
    /** An order in `created`, `authorised` or `dispensing` this long raises `order_stuck`. */
    stuckOrderAfterSeconds: Type.Number({ minimum: 1, default: 900 }),
    /**
     * A card authorisation still open (not captured or voided) this long raises
     * `authorisation_expiring` when the provider did not say when it lapses (card networks
     * drop authorisations after about 7 days).
     */
    authorisationWarnAfterHours: Type.Number({ minimum: 0.001, default: 144 }),
    /** An authorisation whose provider said when it lapses (`authorisedUntil`) is warned of this long before. */
    authorisationWarnBeforeHours: Type.Number({ minimum: 0, default: 24 }),
    /** This many PrepareFailed from one kiosk within `prepareFailureWindowSeconds` raise `prepare_failures`. */
    prepareFailureThreshold: Type.Integer({ minimum: 1, default: 3 }),
    prepareFailureWindowSeconds: Type.Number({ minimum: 1, default: 3600 }),
    /** A kiosk event stamped this far ahead of the hub's clock raises `clock_skew`. */
    clockSkewSeconds: Type.Number({ minimum: 1, default: 120 }),
    /** The door opened within this long after a technician's action on the kiosk counts as a technician's visit. */
    technicianWindowSeconds: Type.Number({ minimum: 0, default: 1800 }),
    /** How often the live invariant checker runs (cloud-lite/invariants/); 0: never. */
    invariantCheckIntervalSeconds: Type.Number({ minimum: 0, default: 300 }),
    /** The invariant `authorisation-closed`: authorisations older than this must be captured or voided. */
    authorisationMaxAgeHours: Type.Number({ minimum: 0.001, default: 168 }),
    /** Operators' e-mail addresses that get every alert (through the hub's SMTP mailer). */
    emailTo: Type.Array(Type.String({ minLength: 3, maxLength: 254 }), {
      default: [],
      maxItems: 50,
    }),
    /**
     * The signed webhook (docs/alerts-and-notifications.md says how to verify it): every alert
     * change is POSTed to `url`, retried with backoff until a 2xx or `maxAttempts`.
     */
    webhook: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://' }),
          /** The HMAC key; or `secretFile`, a file holding it. */
          secret: Type.Optional(Type.String({ minLength: 16 })),
          secretFile: Type.Optional(Type.String({ minLength: 1 })),
          maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 12 }),
          timeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);

export type AlertsConfig = Static<typeof AlertsConfigSchema>;
