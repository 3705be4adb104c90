import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import type { CommandSignature } from './schemas/common.js';

export type { CommandSignature };

/** Default clock skew tolerated after `expiresAt` when verifying. */
export const DEFAULT_MAX_SKEW_MS = 30_000;

/**
 * JSON with object keys sorted (by UTF-16 code units) at every level and no whitespace; the
 * byte-exact form that command signatures cover. Follows JSON.stringify for values it cannot
 * represent (undefined/function properties are left out, become null in arrays; toJSON is used).
 */
export function canonicalJson(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    const withToJson = value as { toJSON?: () => unknown };
    if (typeof withToJson.toJSON === 'function') return canonicalJson(withToJson.toJSON());
    if (Array.isArray(value)) {
      const items = value.map((v) =>
        v === undefined || typeof v === 'function' || typeof v === 'symbol'
          ? 'null'
          : canonicalJson(v),
      );
      return `[${items.join(',')}]`;
    }
    const obj = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(obj).sort()) {
      const v = obj[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The exact bytes a command signature covers. */
export function signedBytes(
  action: string,
  kioskId: string,
  expiresAt: string,
  nonce: string,
  payloadWithoutSignature: Record<string, unknown>,
): Buffer {
  const { signature: _ignored, ...payload } = payloadWithoutSignature;
  return Buffer.from(canonicalJson({ action, kioskId, expiresAt, nonce, payload }), 'utf8');
}

/** A fresh Ed25519 key pair in PEM (SPKI public, PKCS#8 private). */
export function generateSigningKeyPair(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function toMillis(now: Date | number | undefined): number {
  if (now === undefined) return Date.now();
  return typeof now === 'number' ? now : now.getTime();
}

/**
 * Signs a hub -> kiosk command for one kiosk: returns the payload with a `signature` block
 * (any existing `signature` is replaced). Synchronous; throws if the key is not an Ed25519
 * private key.
 */
export function signCommand<P extends Record<string, unknown>>(
  privateKey: KeyObject | string,
  kioskId: string,
  action: string,
  payloadWithoutSignature: P,
  opts: { ttlMs: number; now?: Date | number },
): Omit<P, 'signature'> & { signature: CommandSignature } {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(
      'signCommand needs an Ed25519 private key; create one with generateSigningKeyPair()',
    );
  }
  const expiresAt = new Date(toMillis(opts.now) + opts.ttlMs).toISOString();
  const nonce = randomBytes(16).toString('base64url');
  const { signature: _old, ...payload } = payloadWithoutSignature;
  const sig = sign(null, signedBytes(action, kioskId, expiresAt, nonce, payload), key).toString(
    'base64url',
  );
  return { ...payload, signature: { kioskId, expiresAt, nonce, sig } } as Omit<P, 'signature'> & {
    signature: CommandSignature;
  };
}

export type VerifyResult =
  | { ok: true; nonce: string; expiresAt: string }
  | { ok: false; reason: string };

/**
 * Checks a signed command: the signature block's shape, that it names `expectedKioskId`, that
 * `expiresAt` (plus `maxSkewMs`, default 30 s) is not past, and the Ed25519 signature over
 * action, kiosk id, expiry, nonce and the payload without its signature. Never throws.
 * Nonce replay tracking is the caller's job (it needs storage): remember `nonce` until
 * `expiresAt` and refuse a second use.
 */
export function verifyCommand(
  publicKey: KeyObject | string,
  expectedKioskId: string,
  action: string,
  payload: unknown,
  opts: { now?: Date | number; maxSkewMs?: number } = {},
): VerifyResult {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, reason: 'payload is not an object' };
  }
  const signature = (payload as { signature?: unknown }).signature;
  if (typeof signature !== 'object' || signature === null) {
    return { ok: false, reason: 'payload carries no signature' };
  }
  const { kioskId, expiresAt, nonce, sig } = signature as Record<string, unknown>;
  if (
    typeof kioskId !== 'string' ||
    typeof expiresAt !== 'string' ||
    typeof nonce !== 'string' ||
    typeof sig !== 'string'
  ) {
    return { ok: false, reason: 'signature block is malformed' };
  }
  if (kioskId !== expectedKioskId) {
    return { ok: false, reason: `signature is for kiosk ${kioskId}, not ${expectedKioskId}` };
  }
  const expiresMs = Date.parse(expiresAt);
  if (Number.isNaN(expiresMs)) return { ok: false, reason: 'signature expiry is not a date' };
  const now = toMillis(opts.now);
  if (now > expiresMs + (opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    return { ok: false, reason: `signature expired at ${expiresAt}` };
  }
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    if (pub.asymmetricKeyType !== 'ed25519') {
      return { ok: false, reason: 'verification key is not an Ed25519 key' };
    }
    const sigBytes = Buffer.from(sig, 'base64url');
    if (sigBytes.length !== 64) return { ok: false, reason: 'signature is not 64 bytes' };
    const data = signedBytes(action, kioskId, expiresAt, nonce, payload as Record<string, unknown>);
    if (!verify(null, data, pub, sigBytes)) {
      return { ok: false, reason: 'signature does not match the command' };
    }
  } catch (err) {
    return { ok: false, reason: `signature could not be checked: ${(err as Error).message}` };
  }
  return { ok: true, nonce, expiresAt };
}
