/**
 * The identity file every prepared disk carries: `/.disk-kiosk/identity.json`.
 * A returned disk is recognised by it and verified against the manifest inside it.
 *
 * In image mode the file is part of the block image, at a fixed size (identitySlotBytes):
 * each disk gets its own identity as one more block patch, the JSON padded with spaces
 * (paddedIdentity), so no disk is mounted to write it. File mode, and image mode when the
 * identity cannot be patched, write it through a mount (writeIdentity).
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { ContentManifest } from '../content/manifest.js';
import { validateManifest } from '../content/manifest.js';
import { IDENTITY_DIR } from '../content/paths.js';

export interface DiskIdentity {
  format: 1;
  diskId: string;
  contentId: string;
  contentVersion: string;
  preparedAt: string;
  kioskId: string;
  writeProtect: boolean;
  manifest: ContentManifest;
  /** Set when the disk was written from a block image (image mode). */
  image?: {
    imageId: string;
    /** The capacity class the image was built for (its volume spans it). */
    classBytes: number;
    /** The fresh exFAT volume serial this disk got, as `XXXX-XXXX` (blkid's UUID). */
    volumeSerial: string;
  };
}

export const IDENTITY_FILE = `${IDENTITY_DIR}/identity.json`;

/** The identity file's text (one-space indent, as every disk has carried it). */
export const identityText = (id: DiskIdentity): string => JSON.stringify(id, null, 1);

/**
 * Room in an image's identity file for the fields each disk fills in (diskId, kioskId,
 * preparedAt, writeProtect, volumeSerial) beyond what every disk of the image shares.
 */
export const PER_DISK_IDENTITY_BYTES = 4096;

/**
 * The size of the identity file an image of `m` carries: the identity with the image's own
 * fields and empty per-disk ones, plus PER_DISK_IDENTITY_BYTES, in whole 4 KiB.
 */
export function identitySlotBytes(
  m: ContentManifest,
  image: Pick<NonNullable<DiskIdentity['image']>, 'imageId' | 'classBytes'>,
): number {
  const template = identityText({
    format: 1,
    diskId: '',
    contentId: m.contentId,
    contentVersion: m.version,
    preparedAt: '',
    kioskId: '',
    writeProtect: false,
    manifest: m,
    image: { ...image, volumeSerial: '' },
  });
  const bytes = Buffer.byteLength(template) + PER_DISK_IDENTITY_BYTES;
  return Math.ceil(bytes / 4096) * 4096;
}

/** What an image's identity file holds until a disk gets its own: no identity (format 0). */
export function identityPlaceholder(size: number): Buffer {
  const b = Buffer.alloc(size, ' ');
  b.write('{"format":0,"note":"each disk written from this image gets its own identity"}');
  return b;
}

/** `id` as exactly `size` bytes (JSON, then spaces), or undefined when it does not fit. */
export function paddedIdentity(id: DiskIdentity, size: number): Buffer | undefined {
  const text = Buffer.from(identityText(id));
  if (text.length > size) return undefined;
  const b = Buffer.alloc(size, ' ');
  text.copy(b);
  return b;
}

export async function writeIdentity(mountpoint: string, id: DiskIdentity): Promise<void> {
  const dir = path.join(mountpoint, IDENTITY_DIR);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, 'identity.json.tmp');
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(identityText(id));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path.join(dir, 'identity.json'));
}

/** The disk's identity, or undefined when absent or unreadable as one. */
export async function readIdentity(mountpoint: string): Promise<DiskIdentity | undefined> {
  try {
    const raw = JSON.parse(
      await readFile(path.join(mountpoint, IDENTITY_FILE), 'utf8'),
    ) as DiskIdentity;
    if (raw.format !== 1 || typeof raw.diskId !== 'string') return undefined;
    return { ...raw, manifest: validateManifest(raw.manifest) };
  } catch {
    return undefined;
  }
}
