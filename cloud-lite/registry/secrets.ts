import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, base64url: enrolment tokens and kiosk secrets. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a secret. A 256-bit random secret needs no slow password hash. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time comparison of two hashes (or any buffers; unequal lengths compare false). */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time string comparison via hashes (length does not leak). */
export function sameSecret(a: string, b: string): boolean {
  return sameHash(hashSecret(a), hashSecret(b));
}
