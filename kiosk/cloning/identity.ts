/**
 * The identity file every prepared disk carries: `/.disk-kiosk/identity.json`.
 * A returned disk is recognised by it and verified against the manifest inside it.
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

export async function writeIdentity(mountpoint: string, id: DiskIdentity): Promise<void> {
  const dir = path.join(mountpoint, IDENTITY_DIR);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, 'identity.json.tmp');
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(id, null, 1));
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
