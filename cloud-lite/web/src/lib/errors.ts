/** A refused or failed API call: the HTTP status, the API's error code and its details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Sentence = string | ((details: Record<string, unknown>) => string);

/**
 * Every refusal code the API gives, as a sentence a renter or operator can act on. Codes the
 * table does not know fall back to the server's own message.
 */
const SENTENCES: Record<string, Sentence> = {
  // accounts
  EMAIL_TAKEN: 'An account with this e-mail or phone number already exists. Log in instead.',
  WEAK_PASSWORD: (d) =>
    ({
      too_short: 'Choose a longer password: at least 10 characters.',
      too_long: 'Choose a shorter password: at most 256 characters.',
      common: 'This password is one of the most common ones. Choose another.',
      repetitive: 'This password only repeats a character or a group. Choose another.',
      sequential: 'This password is a straight run of characters. Choose another.',
      login: 'Do not use your e-mail address or phone number as the password.',
    })[String(d.reason)] ?? 'Choose a stronger password: at least 10 characters, not a common one.',
  REGISTRATION_INVALID:
    'This link is unknown, used or expired. Register again, or log in if you already have an account.',
  BUSY: 'Many people are logging in right now. Try again in a few seconds.',
  VALIDATION: 'Some fields are missing or not valid. Check the form and try again.',
  INVALID_CREDENTIALS: 'The login or the password is wrong.',
  TOO_MANY_ATTEMPTS: (d) =>
    typeof d.retryAfterSeconds === 'number'
      ? `Too many failed logins. Try again in ${waitText(d.retryAfterSeconds)}.`
      : 'Too many failed logins. Wait a few minutes and try again.',
  UNAUTHENTICATED: 'Log in first (or your session has ended).',
  FORBIDDEN: 'Your account may not do this.',
  // permission to rent (reasons)
  NOT_ALLOWED: 'You may not rent right now.',
  NO_DEPOSIT: 'Pay a deposit first: it covers a disk that is not returned.',
  OVERDUE_RENTAL: 'Return your overdue disk first.',
  LOST_DISK: 'A disk rented on your account is reported lost. Contact support.',
  PAYMENT_ISSUE: 'A payment on your account failed. Update your card or top up your deposit.',
  RENTAL_OPEN: 'You still have a disk out. Return it before the deposit can be refunded.',
  OPEN_RENTAL_LIMIT: (d) =>
    typeof d.maxOpenRentals === 'number' && d.maxOpenRentals > 1
      ? `You already have ${d.maxOpenRentals} disks out or on the way (reservations count). Return one first.`
      : 'You already have a disk out or on the way (a reservation counts). Return it first.',
  RESERVATION_LIMIT: (d) =>
    d.maxActiveReservations === 0
      ? 'Reservations are not taken at the moment. Rent at a kiosk instead.'
      : typeof d.maxActiveReservations === 'number' && d.maxActiveReservations > 1
        ? `You already have ${d.maxActiveReservations} reservations. Pick one up or cancel it first.`
        : 'You already have a reservation. Pick it up or cancel it first.',
  // kiosks and stock
  KIOSK_OFFLINE: 'This kiosk is offline right now. Try again later or pick another kiosk.',
  // software rollouts (operators)
  ROLLOUT_ACTIVE:
    'Another rollout is still running or halted. Cancel it, or let it complete, before starting a new one.',
  ROLLOUT_ENDED:
    'This rollout cannot do that in its current state (only a running rollout can be halted, only a halted one resumed).',
  ALERT_STATE:
    'This alert has changed meanwhile (only an open alert can be acknowledged, only a live one resolved). The list shows it as it is now.',
  NO_DISK_AVAILABLE: 'No disk of this kind is left at this kiosk. Choose another or reserve one.',
  KIOSK_UNREACHABLE: 'The kiosk did not answer in time. Your payment is released.',
  DISK_TYPE_NOT_OFFERED: 'This kiosk does not offer this disk. Choose another.',
  // reservations and rentals
  RESERVATION_NOT_READY: 'Your reserved disk is not ready yet. Wait for the preparation to finish.',
  RESERVATION_CLOSED: 'This reservation is already closed.',
  PICKUP_IN_PROGRESS: 'The pickup is already under way. Watch the kiosk.',
  PICKUP_CODE_OFFLINE:
    'The kiosk is offline but still accepts your pickup code, so this reservation cannot be cancelled now. Try again once the kiosk is back online.',
  HOLD_EXPIRED: 'The hold time of this reservation has passed.',
  RENTAL_CLOSED: 'This rental is closed (returned or lost) and cannot be extended.',
  RENTAL_TOO_LONG: (d) =>
    typeof d.maxDays === 'number' && typeof d.maxExtraDays === 'number'
      ? d.maxExtraDays > 0
        ? `This disk can be rented for at most ${d.maxDays} days in all: extend by ${d.maxExtraDays} days at most.`
        : `This disk can be rented for at most ${d.maxDays} days in all; it cannot be extended further.`
      : 'This rental cannot be extended that far.',
  QUOTE_CHANGED: 'The price of this extension has changed. Check the new price and confirm again.',
  PREPARE_REJECTED: 'The kiosk could not prepare the disk. Your payment is refunded.',
  PREPARE_TIMEOUT: 'The kiosk took too long to prepare the disk. Your payment is refunded.',
  // a reservation's failureReason when the kiosk refused the disk the hub set aside
  'PREPARE_FAILED: ESLOTBUSY':
    'The disk set aside for you was busy at the kiosk. Your payment is refunded; reserve again.',
  'PREPARE_FAILED: ESTOCK':
    'The kiosk keeps its last ready disks for walk-up renters. Your payment is refunded; try another kiosk.',
  DISPENSE_REJECTED: 'The kiosk could not hand out the disk. Nothing was charged.',
  CANCELLED_BY_RENTER: 'You cancelled this reservation. Your payment is refunded.',
  CANCELLED_BY_KIOSK: 'The kiosk cancelled this reservation. Your payment is refunded.',
  KIOSK_NOT_FOUND: 'This kiosk does not exist. Scan the QR code again.',
  // payment
  CARD_DECLINED: 'Your card was declined. Use another card.',
  INSUFFICIENT_FUNDS: 'Your card was declined for insufficient funds. Use another card.',
  PAYMENT_UNAVAILABLE: 'The payment service is not answering. Nothing was charged; try again.',
  PAYMENT_REFUSED: 'The payment was refused. Use another card.',
  PAYMENT_FAILED: 'The payment failed. Nothing was charged; try again or use another card.',
  NO_SAVED_CARD: 'No card is saved on your account. Enter your card.',
  NO_PAYMENT_METHOD:
    'No card is saved on your account and the deposit does not cover it. Top up first.',
  DEPOSIT_SHORTFALL: 'Your deposit does not cover this. Top it up first.',
  IDEMPOTENCY_MISMATCH: 'This payment was already sent with other details. Reload and try again.',
  WEBHOOK_INVALID: 'The payment notice was refused: its signature does not check.',
  // kiosks (operator pages)
  KIOSK_EXISTS: 'That id is already taken. Choose another.',
  INVALID_ID: 'Ids may use letters, digits and . _ - only (at most 64).',
  KIOSK_REVOKED: 'This kiosk is revoked. Create a new kiosk instead.',
  ENROLMENT_INVALID: 'This enrolment token is unknown, used or expired. Ask for a new one.',
  // the HTTP edge
  NOT_FOUND: 'Not found: it may have been removed.',
  BAD_JSON: 'The page sent a malformed request. Reload the page.',
  BAD_REQUEST: 'The page sent a malformed request. Reload the page.',
  BODY_TOO_LARGE: 'The request is too large.',
  UNSUPPORTED_MEDIA_TYPE:
    'The page sent a request in a form the service does not read. Reload the page.',
  RANGE_NOT_SATISFIABLE: 'The requested part of the file is outside it.',
  INTERNAL: 'Something went wrong on our side. Try again in a minute.',
  UNAVAILABLE: 'The service is restarting. Try again in a minute.',
  TIMEOUT: 'The service took too long to answer. Try again in a minute.',
  CROSS_ORIGIN: 'This request came from another website and was refused. Use this site itself.',
  BAD_URL: 'The address is malformed. Check the link and try again.',
  URI_TOO_LONG: 'The address is too long. Check the link and try again.',
  HEADERS_TOO_LARGE: "The request is too large. Clear this site's cookies and try again.",
  REQUEST_TIMEOUT: 'The request took too long to arrive. Check your network and try again.',
  ENETWORK: 'No connection to the service. Check your network and try again.',
};

function waitText(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.ceil(seconds))} seconds`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/** The sentence for one code, or undefined when the table has none. */
export function sentenceFor(
  code: string,
  details: Record<string, unknown> = {},
): string | undefined {
  const s = SENTENCES[code];
  if (s === undefined) return undefined;
  return typeof s === 'function' ? s(details) : s;
}

/**
 * The message to show for any error: a known code's sentence (plus the reasons of a
 * NOT_ALLOWED refusal), else the server's message, else a generic sentence.
 */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const base = sentenceFor(err.code, err.details);
    const reasons = Array.isArray(err.details.reasons)
      ? (err.details.reasons as unknown[])
          .map((r) => (typeof r === 'string' ? sentenceFor(r, err.details) : undefined))
          .filter((s): s is string => !!s)
      : [];
    if (base) return [base, ...reasons].join(' ');
    if (err.message) return err.message;
    return `The request failed (${err.code}).`;
  }
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong. Try again.';
}

/** Sentences for the `reasons` codes of /api/me or a kiosk session. */
export function describeReasons(reasons: readonly string[]): string[] {
  return reasons.map((r) => sentenceFor(r) ?? r);
}

/** What a failed order or reservation's `failureReason` means for the renter. */
export function describeFailure(reason: string | null | undefined): string {
  if (!reason) return 'It did not work out. Nothing was charged.';
  const known = sentenceFor(reason);
  if (known) return known;
  const upper = reason.toUpperCase();
  if (upper.includes('JAM')) return 'The kiosk could not push the disk out. Nothing was charged.';
  if (upper.includes('TIMEOUT') || upper.includes('EXPIRED'))
    return 'The kiosk did not answer in time. Nothing was charged.';
  if (upper.includes('VERIFY') || upper.includes('PREPARE'))
    return 'The disk could not be prepared. Your payment is refunded.';
  return `${reason}. Nothing was charged.`;
}
