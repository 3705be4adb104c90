import { type Static, Type } from '@sinclair/typebox';

const Int = (min: number, def: number, description?: string) =>
  Type.Integer({ minimum: min, default: def, ...(description ? { description } : {}) });

/** The `rental` section of the hub configuration (every key has a default). */
export const RentalConfigSchema = Type.Object(
  {
    currency: Type.String({ minLength: 3, maxLength: 3, default: 'EUR' }),
    /**
     * The operator's terms and privacy pages (http(s) URLs): the renter pages link them
     * wherever money is taken (rent, reserve, deposit). Absent: no link.
     */
    termsUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 500 })),
    privacyUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 500 })),
    /**
     * Smallest deposit that permits renting: only the seed of the stored rental settings at the
     * first start (docs/money-and-limits.md, "Rental settings"); later changes here are ignored.
     */
    minDepositMinor: Int(1, 5000),
    /**
     * Disks a renter may hold or have coming at once: unreturned rentals, orders in flight and
     * active reservations (each becomes a rental at pickup). More orders or reservations are
     * refused (403 NOT_ALLOWED, reason OPEN_RENTAL_LIMIT).
     */
    maxOpenRentals: Int(1, 1),
    /** Reservations (preparing or ready) a renter may have at once (reason RESERVATION_LIMIT). */
    maxActiveReservations: Int(0, 1),
    /** Hold window of a prepared reservation. */
    holdWindowSeconds: Int(1, 24 * 3600),
    /** How long a kiosk has to finish PrepareDisk before the reservation is cancelled and voided. */
    prepareDeadlineSeconds: Int(1, 2 * 3600),
    /**
     * Whether a reservation may claim a kiosk's `ready` disk of OTHER content (the kiosk
     * reformats it) when no ready disk of its content and no loaded disk is free. Off: such
     * stock is never destroyed for a reservation (the renter gets NO_DISK_AVAILABLE).
     */
    reservationsMayReformatReady: Type.Boolean({ default: false }),
    /**
     * With `reservationsMayReformatReady`: a ready disk is reformatted only while every disk
     * type it sells at that kiosk keeps at least this many other ready disks.
     */
    keepReadyPerType: Int(0, 1),
    /** Fee captured when a ready reservation is not picked up in its hold window (the rest is voided). */
    noShowFeeMinor: Int(0, 300),
    /** Deadline of a Dispense command: not accepted by then -> expired -> order voided. */
    dispenseCommandTtlSeconds: Int(1, 120),
    /** Seconds the kiosk keeps the disk out for the renter to take. */
    pickupWindowSeconds: Int(1, 60),
    /**
     * After a `jammed` dispense the payment stays authorised this long: a disk pulled out of
     * the jammed slot meanwhile (DiskRemoved) is captured and rented to the order's renter;
     * at expiry, or when the slot recovers with the disk inside, it is voided. 0: void at once.
     */
    jamHoldSeconds: Int(0, 600),
    /**
     * An order in flight (authorised, dispensing) whose kiosk cannot serve (disconnected, or no
     * heartbeat for 3 intervals) and has not been heard from for this long moves to
     * `kiosk_unreachable`, which the order API and its live stream show.
     */
    kioskUnreachableAfterSeconds: Int(0, 5),
    /**
     * How long a `kiosk_unreachable` order keeps its payment authorised for the kiosk to come
     * back and report (taken: captured once; not taken: voided); then it fails
     * KIOSK_UNREACHABLE and the payment is voided. A Dispense the kiosk never accepted is
     * voided at its own deadline (`dispenseCommandTtlSeconds`) when that comes first.
     */
    kioskUnreachableHoldSeconds: Int(1, 600),
    /** An accepted Dispense without an outcome after this long is asked about and flagged. */
    dispenseOutcomeDeadlineSeconds: Int(1, 600),
    /**
     * Overdue fee per started day past due, up to `overdueMaxDays` days: the seed of the stored
     * rental settings at the first start; afterwards edited on /ops, not here.
     */
    overdueFeePerDayMinor: Int(0, 300),
    /** After this many overdue days the disk counts as lost. */
    overdueMaxDays: Int(1, 10),
    /** Lost-disk charge, taken from the deposit: the seed of the stored rental settings (as above). */
    lostDiskChargeMinor: Int(0, 5000),
    /** Payment intents (authorising, capturing, voiding, refunding) older than this are finished by reconciliation. */
    intentRetryAfterSeconds: Int(0, 30),
    /** Reconciliation period. */
    reconcileIntervalMs: Int(10, 30_000),
    sessionTtlSeconds: Int(60, 30 * 24 * 3600),
    /** log2 of the scrypt cost N (OWASP: 17). Lower only for tests; the hash records its parameters. */
    scryptLog2N: Type.Integer({ minimum: 10, maximum: 20, default: 17 }),
    /** Window of the login throttles: attempts are counted before the password check. */
    loginWindowSeconds: Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600, default: 15 * 60 }),
    /** Attempts at one account from one client address (what locks a guesser out). */
    loginMaxFailuresPerAccountAddress: Int(1, 5),
    /** Attempts at one account from all addresses: a high ceiling against distributed guessing. */
    loginMaxFailuresPerAccount: Int(1, 100),
    /** Attempts from one client address at any accounts. */
    loginMaxFailuresPerIp: Int(1, 20),
    /** Registrations from one client address within `registerWindowSeconds`. */
    registerMaxPerAddress: Int(1, 10),
    registerWindowSeconds: Type.Integer({ minimum: 1, maximum: 30 * 24 * 3600, default: 3600 }),
    /** How long the link that confirms a registration stays valid. */
    registrationTtlSeconds: Int(60, 24 * 3600),
    /** How long a "forgot password" link stays valid (it works once). */
    passwordResetTtlSeconds: Int(60, 3600),
    /** "Forgot password" requests for one login within an hour (counted whether it exists or not). */
    passwordResetMaxPerLogin: Int(1, 3),
    /** "Forgot password" requests from one client address within an hour. */
    passwordResetMaxPerAddress: Int(1, 20),
    /** Password hashes (scrypt) running at once; the rest wait, so the thread pool stays free. */
    maxConcurrentHashes: Int(1, 2),
    /** Password hashes waiting at most; beyond that, login and register answer 503 BUSY. */
    maxQueuedHashes: Int(0, 64),
    payments: Type.Object(
      {
        /** `sandbox` (built in, for demos and tests) or `stripe` (docs/payments.md). */
        provider: Type.Union([Type.Literal('sandbox'), Type.Literal('stripe')], {
          default: 'sandbox',
        }),
        /**
         * HMAC secret of the provider's webhooks (Stripe: the endpoint's whsec_…); a random one
         * per start when absent (sandbox only). Prefer `webhookSecretFile` or the environment
         * (STRIPE_WEBHOOK_SECRET) for a real provider.
         */
        webhookSecret: Type.Optional(Type.String({ minLength: 16 })),
        /** A file holding the webhook secret (read once at start; whitespace trimmed). */
        webhookSecretFile: Type.Optional(Type.String({ minLength: 1 })),
        stripe: Type.Object(
          {
            /** A file holding the secret API key; else the environment's STRIPE_SECRET_KEY. */
            secretKeyFile: Type.Optional(Type.String({ minLength: 1 })),
            /** The publishable key (pk_…) the renter page gives Stripe.js; not a secret. */
            publishableKey: Type.Optional(Type.String({ minLength: 1 })),
            /**
             * Where the renter page loads Stripe.js from (its origin is added to the page's
             * Content-Security-Policy). Stripe requires js.stripe.com in production; tests
             * point it at a local stand-in.
             */
            jsUrl: Type.String({
              default: 'https://js.stripe.com/v3/',
              pattern: '^https?://[^/\\s]+/\\S*$',
            }),
            /** Another API endpoint than https://api.stripe.com (a local stand-in, a proxy). */
            api: Type.Optional(
              Type.Object(
                {
                  host: Type.String({ minLength: 1 }),
                  port: Type.Integer({ minimum: 1, maximum: 65535 }),
                  protocol: Type.Union([Type.Literal('http'), Type.Literal('https')]),
                },
                { additionalProperties: false },
              ),
            ),
            /** Retries of a request whose connection failed (same idempotency key). */
            maxNetworkRetries: Int(0, 2),
            /** Per-request timeout. */
            timeoutMs: Int(100, 20_000),
            /**
             * How long before an authorisation lapses reconciliation flags it at risk
             * (AUTHORISATION_AT_RISK). Holds longer than the provider's authorisation lifetime
             * minus this margin are refused at start.
             */
            lapseMarginSeconds: Int(0, 12 * 3600),
          },
          { default: {}, additionalProperties: false },
        ),
        /** Sandbox: capture answers `pending` and the result arrives only by webhook. */
        sandboxAsyncCapture: Type.Boolean({ default: false }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Creates this admin at start when no user has the email yet. */
    bootstrapAdmin: Type.Optional(
      Type.Object(
        {
          email: Type.String({ minLength: 3, maxLength: 254 }),
          password: Type.String({ minLength: 10, maxLength: 200 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { default: {}, additionalProperties: false },
);

export type RentalConfig = Static<typeof RentalConfigSchema>;
