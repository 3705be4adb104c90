import { hasMessage, t } from '../i18n/i18n.js';
import { formatDuration } from './format.js';

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

/** Failure reasons whose text is not a plain code: their catalogue key. */
const REASON_KEYS: Record<string, string> = {
  'PREPARE_FAILED: ESLOTBUSY': 'PREPARE_FAILED_ESLOTBUSY',
  'PREPARE_FAILED: ESTOCK': 'PREPARE_FAILED_ESTOCK',
};

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/**
 * Every refusal code the API gives, as a sentence a renter or operator can act on, in the
 * page's language (the catalogue's `errors` section; a test checks it covers every code of
 * cloud-lite/error-codes.ts in every language). Undefined for a code the catalogue lacks.
 */
export function sentenceFor(
  code: string,
  details: Record<string, unknown> = {},
): string | undefined {
  const key = `errors.${REASON_KEYS[code] ?? code}`;
  if (!/^[A-Z0-9_]+$/.test(REASON_KEYS[code] ?? code) || !hasMessage(key)) return undefined;
  switch (code) {
    case 'WEAK_PASSWORD':
      return t(key, { context: typeof details.reason === 'string' ? details.reason : undefined });
    case 'TOO_MANY_ATTEMPTS': {
      const s = num(details.retryAfterSeconds);
      return s === undefined ? t(key) : t(`${key}_wait`, { wait: formatDuration(Math.max(1, s)) });
    }
    case 'OPEN_RENTAL_LIMIT': {
      const n = num(details.maxOpenRentals);
      return n !== undefined && n > 1 ? t(`${key}_many`, { count: n }) : t(key);
    }
    case 'RESERVATION_LIMIT': {
      const n = num(details.maxActiveReservations);
      if (n === 0) return t(`${key}_none`);
      return n !== undefined && n > 1 ? t(`${key}_many`, { count: n }) : t(key);
    }
    case 'RENTAL_TOO_LONG': {
      const maxDays = num(details.maxDays);
      const maxExtraDays = num(details.maxExtraDays);
      if (maxDays === undefined || maxExtraDays === undefined) return t(key);
      return maxExtraDays > 0
        ? t(`${key}_extra`, { maxDays, maxExtraDays })
        : t(`${key}_max`, { maxDays });
    }
    default:
      return t(key);
  }
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
    return t('errors.generic_code', { code: err.code });
  }
  if (err instanceof Error && err.message) return err.message;
  return t('errors.generic');
}

/** Sentences for the `reasons` codes of /api/me or a kiosk session. */
export function describeReasons(reasons: readonly string[]): string[] {
  return reasons.map((r) => sentenceFor(r) ?? r);
}

/** What a failed order or reservation's `failureReason` means for the renter. */
export function describeFailure(reason: string | null | undefined): string {
  if (!reason) return t('failure.unknown');
  const known = sentenceFor(reason);
  if (known) return known;
  const upper = reason.toUpperCase();
  if (upper.includes('JAM')) return t('failure.jam');
  if (upper.includes('TIMEOUT') || upper.includes('EXPIRED')) return t('failure.timeout');
  if (upper.includes('VERIFY') || upper.includes('PREPARE')) return t('failure.prepare');
  return t('failure.other', { reason });
}
