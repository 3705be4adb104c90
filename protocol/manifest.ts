/**
 * Content manifests on the wire: the shape the hub's content origin serves as
 * `manifest.json` (`{ manifest, sig }`) and the exact bytes its Ed25519 signature covers.
 * Pure functions, no I/O. The hub signs with these; the kiosk verifies with these (and
 * adds its own exFAT path rules in kiosk/content/manifest.ts).
 *
 * The signature covers `MANIFEST_SIGNING_DOMAIN + canonicalJson(manifest)`, so a manifest
 * signature can never be replayed as a command signature or vice versa.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { canonicalJson } from './signing.js';

export const MANIFEST_SIGNING_DOMAIN = 'disk-kiosk.manifest.v1\n';

export const ManifestFileSchema = Type.Object(
  {
    /** Relative path with `/` separators, as laid out on the disk. */
    path: Type.String({ minLength: 1, maxLength: 3072 }),
    size: Type.Integer({ minimum: 0 }),
    /** Lower-case hex SHA-256 of the file's bytes. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);

export const ContentManifestSchema = Type.Object(
  {
    format: Type.Literal(1),
    contentId: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' }),
    version: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$' }),
    title: Type.String({ maxLength: 256 }),
    files: Type.Array(ManifestFileSchema, { minItems: 1 }),
    /** Sum of every file's size. */
    totalBytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export const SignedManifestSchema = Type.Object(
  {
    manifest: ContentManifestSchema,
    /** base64url Ed25519 signature over manifestSigningInput(manifest). */
    sig: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

export type WireManifestFile = Static<typeof ManifestFileSchema>;
export type WireContentManifest = Static<typeof ContentManifestSchema>;
export type WireSignedManifest = Static<typeof SignedManifestSchema>;

function keyOf(k: KeyObject | string, kind: 'public' | 'private'): KeyObject {
  if (typeof k !== 'string') return k;
  return kind === 'public' ? createPublicKey(k) : createPrivateKey(k);
}

/** The exact bytes a manifest signature covers. */
export function manifestSigningInput(manifest: WireContentManifest): Buffer {
  return Buffer.from(MANIFEST_SIGNING_DOMAIN + canonicalJson(manifest), 'utf8');
}

/** base64url Ed25519 signature of `manifest` (validate it before signing). */
export function signManifestBytes(
  manifest: WireContentManifest,
  privateKey: KeyObject | string,
): string {
  return sign(null, manifestSigningInput(manifest), keyOf(privateKey, 'private')).toString(
    'base64url',
  );
}

/** True when `sig` is `publicKey`'s signature of `manifest`; false for any malformed input. */
export function verifyManifestBytes(
  manifest: WireContentManifest,
  sig: string,
  publicKey: KeyObject | string,
): boolean {
  try {
    return verify(
      null,
      manifestSigningInput(manifest),
      keyOf(publicKey, 'public'),
      Buffer.from(sig, 'base64url'),
    );
  } catch {
    return false;
  }
}
