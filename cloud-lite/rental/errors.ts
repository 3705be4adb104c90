import type { ApiErrorCode } from '../error-codes.js';
import { HubError } from '../errors.js';

/**
 * A refusal or failure of the rental domain: `code` is the error code the HTTP API answers,
 * `status` the HTTP status, `details` extra fields merged into the error body
 * (`reasons`, `retryAfterSeconds`, ...).
 */
export class RentalError extends HubError {
  constructor(
    code: ApiErrorCode,
    message: string,
    status: number,
    override readonly details: Record<string, unknown> = {},
  ) {
    super(code, message, status);
    this.name = 'RentalError';
  }
}

export const notFound = (what: string) =>
  new RentalError('NOT_FOUND', `${what} does not exist or is not yours`, 404);
