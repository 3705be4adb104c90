/**
 * Error classes of the hub. Each has a `code` a caller can branch on and a message that
 * says what failed and what to do. `status` is the HTTP status the API answers. Errors a
 * client of the HTTP API sees carry a code of its one vocabulary (error-codes.ts); the
 * process-level ones (configuration, store version, a stopping hub) keep the house's E-codes.
 */
import { CodedError } from '../common/coded-error.js';
import type { ApiErrorCode } from './error-codes.js';

export class HubError extends CodedError {
  constructor(
    code: string,
    message: string,
    readonly status = 500,
    /** Extra fields of the error body (e.g. `errors` per field); never internal detail. */
    readonly details?: Record<string, unknown>,
  ) {
    super(code, message);
  }
}

/** Configuration file or environment is invalid; the message names the key. */
export class ConfigError extends HubError {
  constructor(message: string) {
    super('ECONFIG', message, 500);
    this.name = 'ConfigError';
  }
}

export class NotFoundError extends HubError {
  constructor(message: string) {
    super('NOT_FOUND', message, 404);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends HubError {
  constructor(code: ApiErrorCode, message: string) {
    super(code, message, 409);
    this.name = 'ConflictError';
  }
}

/** Enrolment token unknown, used or expired. Deliberately vague towards the caller. */
export class EnrolmentError extends HubError {
  constructor() {
    super(
      'ENROLMENT_INVALID',
      'enrolment refused: the token is unknown, used or expired; ask an operator for a new one',
      401,
    );
    this.name = 'EnrolmentError';
  }
}

/** The database was written by a newer cloud-lite; upgrade the program instead. */
export class StoreVersionError extends HubError {
  constructor(found: number, known: number) {
    super(
      'ESTOREVERSION',
      `database schema version ${found} is newer than this program knows (${known}); run a newer cloud-lite or restore a matching backup`,
    );
    this.name = 'StoreVersionError';
  }
}

/**
 * The store's server cannot be used: ESTOREUNREACHABLE (PostgreSQL does not answer or refuses
 * the login), ESTORETOOOLD (a PostgreSQL older than the hub supports). The message names the
 * server (never its password) and what to do.
 */
export class StoreServerError extends HubError {
  constructor(code: 'ESTOREUNREACHABLE' | 'ESTORETOOOLD', message: string) {
    super(code, message, 503);
    this.name = 'StoreServerError';
  }
}

/** A wait ran out of time. */
export class TimeoutError extends HubError {
  constructor(message: string) {
    super('ETIMEOUT', message, 504);
    this.name = 'TimeoutError';
  }
}

/** The hub is stopping or stopped. */
export class StoppedError extends HubError {
  constructor(message = 'the hub is stopping; retry against the restarted hub') {
    super('ESTOPPED', message, 503);
    this.name = 'StoppedError';
  }
}

/**
 * A command (or one of its fields) needs protocol features the kiosk's software did not list in
 * its Boot (protocol/features.ts): refused when the command is created, nothing recorded.
 */
export class KioskLacksFeatureError extends HubError {
  constructor(
    readonly kioskId: string,
    readonly action: string,
    readonly features: readonly string[],
  ) {
    super(
      'KIOSK_LACKS_FEATURE',
      `kiosk ${kioskId} cannot take ${action}: its software does not list the protocol feature${features.length > 1 ? 's' : ''} ${features.join(', ')}; update the kiosk first`,
      409,
      { features: [...features] },
    );
    this.name = 'KioskLacksFeatureError';
  }
}
