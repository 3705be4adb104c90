import { createHash, randomBytes } from 'node:crypto';

/** A 256-bit random session token (base64url). */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a token: what the store keeps. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
