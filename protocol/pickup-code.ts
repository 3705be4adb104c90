/**
 * Pickup codes (docs/pickup-codes.md): 8 digits the renter types on the kiosk's keypad. The
 * hub sends the kiosk only a salted scrypt hash of the code, bound to the kiosk, the slot,
 * the reservation and the code's expiry, so a hash copied to another kiosk, slot,
 * reservation or expiry matches nothing. Both sides compute it here, the same way.
 */
import { randomBytes, scrypt } from 'node:crypto';
import type { PickupCodeHash } from './schemas/hub-to-kiosk.js';

export const PICKUP_CODE_DIGITS = 8;
export const PICKUP_CODE_PATTERN = /^[0-9]{8}$/;

/** What a code's hash is bound to. */
export interface PickupCodeBinding {
  kioskId: string;
  slot: number;
  reservationId: string;
  /** ISO timestamp, exactly as sent (codeExpiresAt). */
  codeExpiresAt: string;
}

/** Default cost: N = 2^15, r = 8 (32 MiB, about 0.1 s on a Raspberry Pi 4 core). */
export const DEFAULT_PICKUP_SCRYPT = { N: 32768, r: 8, p: 1 } as const;

function bindingBytes(b: PickupCodeBinding): Buffer {
  return Buffer.from(
    ['disk-kiosk pickup code v1', b.kioskId, String(b.slot), b.reservationId, b.codeExpiresAt].join(
      '\n',
    ),
    'utf8',
  );
}

/** scrypt(code, salt || 0 || binding) with the given cost; 32 bytes. */
export function scryptPickupCode(
  code: string,
  salt: Buffer,
  binding: PickupCodeBinding,
  cost: { N: number; r: number; p: number },
): Promise<Buffer> {
  const fullSalt = Buffer.concat([salt, Buffer.from([0]), bindingBytes(binding)]);
  return new Promise((resolve, reject) =>
    scrypt(
      code,
      fullSalt,
      32,
      { N: cost.N, r: cost.r, p: cost.p, maxmem: 256 * cost.N * cost.r + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

/** The hash block of an ArmPickupCode for `code` (a fresh salt). */
export async function hashPickupCode(
  code: string,
  binding: PickupCodeBinding,
  cost: { N: number; r: number; p: number } = DEFAULT_PICKUP_SCRYPT,
): Promise<PickupCodeHash> {
  if (!PICKUP_CODE_PATTERN.test(code)) throw new TypeError('a pickup code is 8 digits');
  const salt = randomBytes(16);
  const hash = await scryptPickupCode(code, salt, binding, cost);
  return {
    alg: 'scrypt',
    N: cost.N,
    r: cost.r,
    p: cost.p,
    salt: salt.toString('base64url'),
    hash: hash.toString('base64url'),
  };
}
