import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { normalisePassword } from './password-policy.js';

const KEYLEN = 32;

function scryptAsync(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must exceed 128 * N * r bytes (128 MiB at N = 2^17, r = 8).
    scrypt(password, salt, KEYLEN, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * Hashes a password with scrypt (OWASP: N = 2^17, r = 8, p = 1) and a random 16-byte salt,
 * after NFKC normalisation (the same password typed in two Unicode forms is one).
 * Format: `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>` (parameters travel with the hash).
 */
export async function hashPassword(password: string, log2N = 17): Promise<string> {
  const N = 2 ** log2N;
  const salt = randomBytes(16);
  const key = await scryptAsync(normalisePassword(password), salt, N, 8, 1);
  return `scrypt$${N}$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * Checks a password (NFKC-normalised) against a stored hash in constant time; false for a
 * malformed hash. A password that NFKC changes is also tried as typed: hashes made before
 * normalisation was introduced hold the raw form.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const normal = normalisePassword(password);
  if (await verifyExact(normal, stored)) return true;
  return normal !== password && verifyExact(password, stored);
}

async function verifyExact(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (
    !Number.isInteger(N) ||
    !Number.isInteger(r) ||
    !Number.isInteger(p) ||
    expected.length !== KEYLEN
  )
    return false;
  const key = await scryptAsync(password, salt, N, r, p);
  return timingSafeEqual(key, expected);
}

/** A hash of a random password: verifying against it costs what a real check costs (no user-enumeration timing). */
export function dummyHash(log2N: number): Promise<string> {
  return hashPassword(randomBytes(16).toString('hex'), log2N);
}
