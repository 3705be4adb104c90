/**
 * Content manifests: what a content package holds (relative paths, sizes, SHA-256),
 * signed by the hub with Ed25519 over protocol's canonical JSON (protocol/manifest.ts holds
 * the signing input shared with the hub). Pure functions, no I/O.
 *
 * The signature covers `MANIFEST_SIGNING_DOMAIN + canonicalJson(manifest)`, so a
 * manifest signature can never be replayed as a command signature or vice versa.
 */
import type { KeyObject } from 'node:crypto';
import {
  MANIFEST_SIGNING_DOMAIN,
  signManifestBytes,
  verifyManifestBytes,
} from '../../protocol/manifest.js';
import { ContentError, ManifestError } from './errors.js';
import { checkPath, foldPath, IDENTITY_DIR } from './paths.js';

export interface ManifestFile {
  /** Relative path with `/` separators, as laid out on the disk. */
  path: string;
  size: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
}

export interface ContentManifest {
  format: 1;
  contentId: string;
  version: string;
  title: string;
  files: ManifestFile[];
  /** Sum of every file's size. */
  totalBytes: number;
}

/** What the origin serves as `manifest.json` and what a USB import holds. */
export interface SignedManifest {
  manifest: ContentManifest;
  /** base64url Ed25519 signature. */
  sig: string;
}

export { MANIFEST_SIGNING_DOMAIN };

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** Most files one package may list (keeps a hostile manifest from exhausting memory). */
export const MAX_FILES = 1_000_000;

/** Hub side (and tests): validates, then signs. Throws ManifestError on a bad manifest. */
export function signManifest(
  manifest: ContentManifest,
  privateKey: KeyObject | string,
): SignedManifest {
  const m = validateManifest(manifest);
  return {
    manifest: m,
    sig: signManifestBytes(m, privateKey),
  };
}

/**
 * Kiosk side: checks the shape and every rule of validateManifest, then the signature.
 * Throws ManifestError (EMANIFEST) or ContentError ESIGNATURE. Returns the manifest.
 */
export function verifySignedManifest(
  input: unknown,
  publicKey: KeyObject | string,
): ContentManifest {
  if (!isObject(input) || typeof input.sig !== 'string' || !isObject(input.manifest)) {
    throw new ManifestError('(document)', 'expected { manifest, sig }');
  }
  const m = validateManifest(input.manifest);
  if (!verifyManifestBytes(m, input.sig, publicKey)) {
    throw new ContentError(
      'ESIGNATURE',
      `manifest of ${m.contentId}@${m.version} does not verify with the hub key; ` +
        'it was altered or signed by another hub: fetch it again or check hub.publicKey',
    );
  }
  return m;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Checks a manifest and returns a clean copy (known fields only). Rejects with a
 * ManifestError naming the entry: unknown format, bad ids, absolute paths, `..`,
 * duplicates (case-insensitively: exFAT is case-insensitive), a file that is also a
 * directory, names exFAT cannot hold, paths too long, bad sizes or hashes, a total that
 * does not add up, the reserved `.disk-kiosk/` directory.
 */
export function validateManifest(input: unknown): ContentManifest {
  if (!isObject(input)) throw new ManifestError('(document)', 'not an object');
  if (input.format !== 1) throw new ManifestError('format', 'must be 1');
  const { contentId, version, title, files, totalBytes } = input;
  if (typeof contentId !== 'string' || !TOKEN.test(contentId)) {
    throw new ManifestError('contentId', 'must be 1-128 letters, digits or ._:- ');
  }
  if (typeof version !== 'string' || !TOKEN.test(version) || version.length > 64) {
    throw new ManifestError('version', 'must be 1-64 letters, digits or ._:- ');
  }
  if (typeof title !== 'string' || title.length > 256) {
    throw new ManifestError('title', 'must be a string of at most 256 characters');
  }
  if (!Array.isArray(files) || files.length === 0 || files.length > MAX_FILES) {
    throw new ManifestError('files', `must be a list of 1..${MAX_FILES} files`);
  }
  const seen = new Map<string, string>();
  const dirs = new Map<string, string>();
  const clean: ManifestFile[] = [];
  let sum = 0;
  files.forEach((f: unknown, i: number) => {
    if (!isObject(f)) throw new ManifestError(`files[${i}]`, 'not an object');
    const p = f.path;
    const name = typeof p === 'string' ? JSON.stringify(p) : `files[${i}]`;
    if (typeof p !== 'string') throw new ManifestError(name, 'path must be a string');
    const problem = checkPath(p);
    if (problem) throw new ManifestError(name, problem);
    const folded = foldPath(p);
    if (
      folded === IDENTITY_DIR.toUpperCase() ||
      folded.startsWith(`${IDENTITY_DIR.toUpperCase()}/`)
    ) {
      throw new ManifestError(name, `${IDENTITY_DIR}/ is reserved for the disk's identity`);
    }
    const dup = seen.get(folded) ?? dirs.get(folded);
    if (dup !== undefined) {
      throw new ManifestError(
        name,
        `clashes with ${JSON.stringify(dup)} (exFAT names ignore case)`,
      );
    }
    const parts = folded.split('/');
    for (let k = 1; k < parts.length; k++) {
      const dir = parts.slice(0, k).join('/');
      const file = seen.get(dir);
      if (file !== undefined) {
        throw new ManifestError(name, `its directory is the file ${JSON.stringify(file)}`);
      }
      if (!dirs.has(dir)) dirs.set(dir, p);
    }
    seen.set(folded, p);
    if (!isCount(f.size)) throw new ManifestError(name, 'size must be a non-negative integer');
    if (typeof f.sha256 !== 'string' || !SHA256.test(f.sha256)) {
      throw new ManifestError(name, 'sha256 must be 64 lower-case hex digits');
    }
    sum += f.size;
    if (!Number.isSafeInteger(sum)) throw new ManifestError(name, 'sizes overflow');
    clean.push({ path: p, size: f.size, sha256: f.sha256 });
  });
  if (!isCount(totalBytes) || totalBytes !== sum) {
    throw new ManifestError(
      'totalBytes',
      `is ${String(totalBytes)} but the files add up to ${sum}`,
    );
  }
  return { format: 1, contentId, version, title, files: clean, totalBytes: sum };
}

/** Builds a manifest from file entries (hub side, tests), computing totalBytes. */
export function buildManifest(
  contentId: string,
  version: string,
  title: string,
  files: ManifestFile[],
): ContentManifest {
  const totalBytes = files.reduce((s, f) => s + f.size, 0);
  return validateManifest({ format: 1, contentId, version, title, files, totalBytes });
}
