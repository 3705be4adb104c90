/**
 * The one vocabulary of error codes the hub's HTTP API answers, in the body
 * `{ "error": { "code", "message", ...details } }`: UPPER_SNAKE, no prefix. Every refusal of a
 * route, of the guard and of the HTTP edge itself uses a code from this table; the domains
 * throw them (RentalError, NotFoundError, ConflictError take an ApiErrorCode), the HTTP layer
 * answers them, the OpenAPI document lists them per route, and the web pages have a sentence
 * for each (cloud-lite/web/src/lib/errors.ts; a test checks both sides).
 *
 * Process-level errors that never reach an HTTP client (configuration, store version, backups,
 * content import) keep the house's E-codes (ECONFIG, ESTOREVERSION, ...); one that does reach
 * the HTTP error handler unexpectedly is answered by its status (UNAVAILABLE, TIMEOUT,
 * INTERNAL), never with its internal code. The kiosk WebSocket protocol's error codes
 * (OCPP-style: FormatViolation, ...) are another contract (docs/protocol.md).
 */
export interface ApiErrorInfo {
  /** HTTP status(es) the code is answered with. */
  status: number | readonly number[];
  /** When it is answered; shown in the OpenAPI document and docs/http-edge.md. */
  description: string;
}

export const API_ERRORS = {
  // The HTTP edge (any route)
  VALIDATION: {
    status: [400, 409],
    description:
      'the request does not match the schema (the message names the field), or a value breaks a rule; 409 when a disk type the rental needs no longer exists',
  },
  BAD_JSON: { status: 400, description: 'the body is not valid JSON' },
  BAD_REQUEST: { status: 400, description: 'the HTTP request itself is malformed' },
  BAD_URL: { status: 400, description: 'the URL does not decode (bad percent-encoding)' },
  URI_TOO_LONG: {
    status: 414,
    description: 'a path part is longer than 100 characters',
  },
  HEADERS_TOO_LARGE: { status: 431, description: "the request headers exceed node's limit" },
  REQUEST_TIMEOUT: { status: 408, description: 'the request did not arrive in time' },
  BODY_TOO_LARGE: { status: 413, description: "the body is larger than the route's limit" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'the body is not application/json' },
  CROSS_ORIGIN: {
    status: 403,
    description:
      'a state-changing request from another site, or cookie-authenticated without an Origin header',
  },
  UNAUTHENTICATED: {
    status: 401,
    description:
      'no valid credential: a session (cookie or bearer) for people, the admin or metrics token or kiosk Basic credentials for machines',
  },
  FORBIDDEN: {
    status: 403,
    description: 'the caller is authenticated but its role may not do this',
  },
  NOT_FOUND: {
    status: 404,
    description: 'no such route, or the record does not exist or is not yours',
  },
  RANGE_NOT_SATISFIABLE: { status: 416, description: 'the Range is outside the blob' },
  INTERNAL: { status: 500, description: 'an unexpected failure; the hub log has the details' },
  UNAVAILABLE: { status: 503, description: 'the hub is stopping; retry against the restarted hub' },
  TIMEOUT: { status: 504, description: 'a wait inside the hub ran out of time' },
  // Accounts and sessions
  EMAIL_TAKEN: { status: 409, description: 'a staff account with this e-mail or phone exists' },
  WEAK_PASSWORD: {
    status: 400,
    description:
      'the new password breaks the rules (`reason`: too_short, too_long, common, repetitive, sequential, login)',
  },
  REGISTRATION_INVALID: {
    status: 400,
    description: 'a registration link that is unknown, used or expired',
  },
  RESET_INVALID: {
    status: 400,
    description: 'a password-reset link that is unknown, used or expired',
  },
  INVALID_CREDENTIALS: { status: 401, description: 'wrong login or password' },
  TOO_MANY_ATTEMPTS: {
    status: 429,
    description:
      'a login, registration or kiosk-enrolment throttle is full (`retryAfterSeconds`, Retry-After)',
  },
  BUSY: {
    status: 503,
    description: 'the password-hash queue is full (`retryAfterSeconds`, Retry-After)',
  },
  // Kiosks
  KIOSK_NOT_FOUND: { status: 404, description: 'the kiosk does not exist (or is revoked)' },
  KIOSK_EXISTS: { status: 409, description: 'a kiosk with this id already exists' },
  KIOSK_REVOKED: { status: 409, description: 'the kiosk is revoked; create a new kiosk' },
  INVALID_ID: { status: 409, description: 'the kiosk id is not 1-64 of A-Z a-z 0-9 . _ -' },
  ENROLMENT_INVALID: {
    status: 401,
    description: 'the enrolment token is unknown, used or expired',
  },
  KIOSK_OFFLINE: {
    status: 409,
    description: 'the kiosk cannot serve now (not connected, or silent for 3 heartbeats)',
  },
  KIOSK_LACKS_FEATURE: {
    status: 409,
    description:
      'the kiosk software does not understand this command or field (its Boot did not list the protocol feature, `features`); update the kiosk first',
  },
  // Software rollouts
  ROLLOUT_ACTIVE: {
    status: 409,
    description: 'another rollout is running or halted: cancel it or let it complete first',
  },
  ROLLOUT_ENDED: {
    status: 409,
    description: 'the rollout is not in a state that allows this (e.g. resume a running one)',
  },
  ALERT_STATE: {
    status: 409,
    description:
      'the alert is not in a state that allows this (acknowledge an open one, resolve a live one)',
  },
  // Remote diagnostics
  DIAGNOSTICS_CLOSED: {
    status: 409,
    description: 'the diagnostics request was already uploaded or has failed: ask again',
  },
  DIAGNOSTICS_NOT_READY: {
    status: 409,
    description: 'the kiosk has not uploaded these diagnostics (yet, or it failed: see its state)',
  },
  DIGEST_MISMATCH: {
    status: 400,
    description: 'the uploaded bytes do not match their x-content-sha256 header',
  },
  // Remote configuration
  INVALID_SETTINGS: {
    status: 400,
    description:
      'a remote setting is not on the allow-list or its value is not one kioskd takes; `errors` names each setting',
  },
  CONFIG_CHANGED: {
    status: 409,
    description:
      'the settings changed since they were read (expectedVersion): reload and edit again',
  },
  // Renting
  NOT_ALLOWED: {
    status: 403,
    description:
      'the renter may not rent or reserve now (`reasons`, and the limits `maxOpenRentals`, `maxActiveReservations`)',
  },
  DISK_TYPE_NOT_OFFERED: { status: 409, description: 'the kiosk does not offer this disk type' },
  NO_DISK_AVAILABLE: { status: 409, description: 'no disk of this type can be had at this kiosk' },
  IDEMPOTENCY_MISMATCH: {
    status: 409,
    description: 'the Idempotency-Key was used before with another request',
  },
  RESERVATION_NOT_READY: { status: 409, description: 'the reserved disk is not prepared yet' },
  RESERVATION_CLOSED: { status: 409, description: 'the reservation is already closed' },
  PICKUP_IN_PROGRESS: { status: 409, description: 'the pickup of this reservation is under way' },
  PICKUP_CODE_OFFLINE: {
    status: 409,
    description:
      'the kiosk is offline and holds the pickup code of this reservation: it may hand the disk out, so the reservation cannot be cancelled until it is back online',
  },
  RENTAL_OPEN: {
    status: 409,
    description: 'the deposit cannot be refunded while a disk is out or an order in flight',
  },
  RENTAL_CLOSED: { status: 409, description: 'the rental is returned or lost' },
  RENTAL_TOO_LONG: {
    status: 409,
    description: "beyond the disk type's maxDays (`maxDays`, `daysSoFar`, `maxExtraDays`)",
  },
  QUOTE_CHANGED: {
    status: 409,
    description: 'the quoted amount is not the price any more (`amountMinor`)',
  },
  // Payments
  CARD_DATA_REFUSED: {
    status: 400,
    description:
      "the body carries card details (a card number, CVC or expiry): the hub takes only a payment-method id from the provider's card form",
  },
  NO_SAVED_CARD: { status: 400, description: 'useSaved without a saved card' },
  NO_PAYMENT_METHOD: {
    status: 402,
    description: 'no saved card and the deposit does not cover the extension',
  },
  CARD_DECLINED: { status: 402, description: 'the card was declined (also an expired card)' },
  INSUFFICIENT_FUNDS: { status: 402, description: 'the card was declined for insufficient funds' },
  PAYMENT_REFUSED: { status: 402, description: 'the payment provider refused the payment' },
  PAYMENT_UNAVAILABLE: {
    status: 503,
    description: 'the payment provider does not answer; nothing was charged',
  },
  WEBHOOK_INVALID: { status: 400, description: 'a payment webhook whose signature does not check' },
} as const satisfies Record<string, ApiErrorInfo>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export const isApiErrorCode = (code: string): code is ApiErrorCode =>
  Object.hasOwn(API_ERRORS, code);

/** The statuses of a code, as a list. */
export const statusesOf = (code: ApiErrorCode): readonly number[] => {
  const s = API_ERRORS[code].status;
  return typeof s === 'number' ? [s] : s;
};

/**
 * Why a renter may not rent or reserve now: the `reasons` of a NOT_ALLOWED refusal, of
 * `GET /api/me` and of a kiosk session (not error codes themselves).
 */
export const REFUSAL_REASONS = {
  NO_DEPOSIT: 'no deposit paid',
  OVERDUE_RENTAL: 'a rental is overdue',
  LOST_DISK: 'a disk rented on the account is reported lost',
  PAYMENT_ISSUE: 'a payment on the account failed',
  OPEN_RENTAL_LIMIT: 'the renter holds rental.maxOpenRentals disks, orders or reservations',
  RESERVATION_LIMIT: 'the renter holds rental.maxActiveReservations reservations (reserving only)',
  KIOSK_OFFLINE: 'the kiosk cannot serve now (kiosk sessions only)',
} as const;

export type RefusalReason = keyof typeof REFUSAL_REASONS;
