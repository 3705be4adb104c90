/**
 * Import of a directory tree as a content package: every regular file is hashed while it
 * is copied into `<dir>/tmp`, then renamed into the content-addressed blob store (a blob
 * already there is kept), and a manifest listing every file (relative `/` paths, sizes,
 * SHA-256) is signed with the hub key and written atomically. A version is immutable:
 * importing the same id and version again with different files is refused (EVERSIONEXISTS);
 * the same files again is a no-op that answers the stored manifest.
 */
import { createHash, type KeyObject, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Value } from '@sinclair/typebox/value';
import {
  ContentManifestSchema,
  signManifestBytes,
  type WireContentManifest,
  type WireManifestFile,
  type WireSignedManifest,
} from '../../protocol/manifest.js';
import { ContentStoreError, type HubContentStore } from './content-store.js';

export interface ImportRequest {
  /** Directory whose files become the package (its own name is not part of any path). */
  source: string;
  contentId: string;
  version: string;
  title: string;
}

export interface ImportResult {
  signed: WireSignedManifest;
  /** Blobs that were not in the store before. */
  newBlobs: number;
  /** False when the same version with the same files was already imported. */
  created: boolean;
}

/** Regular files under `root`, as sorted relative `/` paths; refuses links and special files. */
async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.push(r);
      else
        throw new ContentStoreError(
          'EBADTREE',
          `${path.join(root, r)} is not a regular file or directory (links and devices cannot be packaged); replace it with a copy`,
        );
    }
  };
  await walk('');
  return out.sort();
}

/** Copies `file` into tmp while hashing; moves it into the blob store. Returns the entry. */
async function storeFile(
  store: HubContentStore,
  root: string,
  rel: string,
): Promise<{ entry: WireManifestFile; isNew: boolean }> {
  const tmp = path.join(store.tmpDir, `${randomUUID()}.import`);
  const hash = createHash('sha256');
  let size = 0;
  try {
    const src = createReadStream(path.join(root, ...rel.split('/')));
    src.on('data', (c) => {
      hash.update(c as Buffer);
      size += (c as Buffer).length;
    });
    await pipeline(src, createWriteStream(tmp, { flags: 'wx' }));
    const fh = await open(tmp, 'r');
    await fh.sync().finally(() => fh.close());
    const sha256 = hash.digest('hex');
    const dest = store.blobPath(sha256);
    const exists = (await store.blobSize(sha256)) === size;
    if (!exists) {
      await mkdir(path.dirname(dest), { recursive: true });
      await rename(tmp, dest);
    }
    return { entry: { path: rel, size, sha256 }, isNew: !exists };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Stores one file as a blob (a RAUC bundle, say); resolves with its hash and size. */
export async function storeBlob(
  store: HubContentStore,
  file: string,
): Promise<{ sha256: string; size: number; isNew: boolean }> {
  const { entry, isNew } = await storeFile(store, path.dirname(file), path.basename(file));
  return { sha256: entry.sha256, size: entry.size, isNew };
}

/** Imports `req.source`; rejects ContentStoreError (EBADID, EBADTREE, EEMPTY, EVERSIONEXISTS). */
export async function importContentTree(
  store: HubContentStore,
  req: ImportRequest,
  privateKey: KeyObject | string,
): Promise<ImportResult> {
  const target = store.manifestPath(req.contentId, req.version);
  const st = await lstat(req.source).catch(() => undefined);
  if (!st?.isDirectory())
    throw new ContentStoreError('EBADTREE', `${req.source} is not a directory`);
  await store.start();
  const files = await listFiles(req.source);
  if (files.length === 0)
    throw new ContentStoreError('EEMPTY', `${req.source} holds no files; a package needs one`);
  const seen = new Set<string>();
  for (const f of files) {
    const key = f.toUpperCase();
    if (seen.has(key))
      throw new ContentStoreError(
        'EBADTREE',
        `${f} differs from another file only in letter case; exFAT disks cannot hold both`,
      );
    seen.add(key);
  }
  const entries: WireManifestFile[] = [];
  let newBlobs = 0;
  for (const rel of files) {
    const { entry, isNew } = await storeFile(store, req.source, rel);
    entries.push(entry);
    if (isNew) newBlobs++;
  }
  const manifest: WireContentManifest = {
    format: 1,
    contentId: req.contentId,
    version: req.version,
    title: req.title,
    files: entries,
    totalBytes: entries.reduce((s, e) => s + e.size, 0),
  };
  if (!Value.Check(ContentManifestSchema, manifest)) {
    const e = Value.Errors(ContentManifestSchema, manifest).First();
    throw new ContentStoreError('EBADTREE', `manifest invalid at ${e?.path}: ${e?.message}`);
  }
  const existing = await store.readManifestText(req.contentId, req.version);
  if (existing !== undefined) {
    const old = (JSON.parse(existing) as WireSignedManifest).manifest;
    if (JSON.stringify(old.files) === JSON.stringify(manifest.files) && old.title === req.title)
      return { signed: JSON.parse(existing) as WireSignedManifest, newBlobs, created: false };
    throw new ContentStoreError(
      'EVERSIONEXISTS',
      `${req.contentId}@${req.version} was already imported with other files; versions are immutable, import under a new version`,
      409,
    );
  }
  const signed: WireSignedManifest = { manifest, sig: signManifestBytes(manifest, privateKey) };
  await mkdir(path.dirname(target), { recursive: true });
  const tmp = path.join(store.tmpDir, `${randomUUID()}.manifest`);
  await writeFile(tmp, JSON.stringify(signed), { flag: 'wx' });
  await rename(tmp, target);
  return { signed, newBlobs, created: true };
}
