/**
 * The content-addressed file store: `<root>/sha256/ab/abcdef...` (the first two hex
 * digits fan the files out). A file enters only through commit(): written elsewhere
 * under `<root>/tmp`, fsynced, hash-checked, then renamed into place and the directory
 * fsynced; so a partial or corrupt file is never under `sha256/`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ContentError } from './errors.js';

export class BlobStore {
  constructor(readonly root: string) {}

  get tmpDir(): string {
    return path.join(this.root, 'tmp');
  }

  /** Staging views for rsync live here: same filesystem as the blobs (hard links). */
  get stagingDir(): string {
    return path.join(this.root, 'staging');
  }

  blobPath(sha256: string): string {
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  async init(): Promise<void> {
    await mkdir(path.join(this.root, 'sha256'), { recursive: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.stagingDir, { recursive: true });
  }

  /** Whether the blob is present with the expected size (its hash was checked on commit). */
  async has(sha256: string, size: number): Promise<boolean> {
    const st = await stat(this.blobPath(sha256)).catch(() => undefined);
    return st?.isFile() === true && st.size === size;
  }

  /**
   * Moves `file` (already fsynced) into the store after checking its SHA-256 and size.
   * On a mismatch the file is deleted and ContentError EHASH thrown.
   */
  async commit(file: string, sha256: string, size: number, knownHash?: string): Promise<void> {
    const st = await stat(file);
    const actual = knownHash ?? (await hashFile(file));
    if (actual !== sha256 || st.size !== size) {
      await rm(file, { force: true });
      throw new ContentError(
        'EHASH',
        `blob ${sha256} failed its check (got ${actual}, ${st.size} bytes of ${size}); ` +
          'it was discarded and will be fetched again',
      );
    }
    const dest = this.blobPath(sha256);
    await mkdir(path.dirname(dest), { recursive: true });
    await rename(file, dest);
    await fsyncDir(path.dirname(dest));
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.blobPath(sha256), { force: true });
  }
}

/** SHA-256 (hex) of a file, streamed in 1 MiB reads. */
export async function hashFile(file: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, signal })) {
    h.update(chunk as Buffer);
  }
  return h.digest('hex');
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
