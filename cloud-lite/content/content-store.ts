/**
 * The hub's content packages on disk: content-addressed blobs and signed manifests.
 *
 *   <dir>/blobs/sha256/<first two hex>/<sha256>     the file bytes, immutable
 *   <dir>/manifests/<contentId>/<version>.json       `{ manifest, sig }` (protocol/manifest.ts)
 *   <dir>/tmp/                                        imports in progress (same filesystem)
 *
 * Paths are built only from validated tokens (ids, versions) and 64-hex hashes, so no
 * request can name a file outside `<dir>`.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { HubError } from '../errors.js';

export const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Content ids and versions (as protocol's Token / Version). */
export const CONTENT_TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const VERSION_TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export class ContentStoreError extends HubError {
  constructor(code: string, message: string, status = 400) {
    super(code, message, status);
    this.name = 'ContentStoreError';
  }
}

export class HubContentStore {
  constructor(private readonly opts: { dir: string }) {}

  get dir(): string {
    return this.opts.dir;
  }

  get tmpDir(): string {
    return path.join(this.opts.dir, 'tmp');
  }

  /** Creates the directories. */
  async start(): Promise<void> {
    for (const d of ['blobs/sha256', 'manifests', 'tmp'])
      await mkdir(path.join(this.opts.dir, d), { recursive: true });
  }

  async stop(): Promise<void> {}

  /** Path of a blob; throws EBADHASH unless `sha256` is 64 lower-case hex digits. */
  blobPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256))
      throw new ContentStoreError('EBADHASH', 'a blob is named by 64 lower-case hex digits');
    return path.join(this.opts.dir, 'blobs', 'sha256', sha256.slice(0, 2), sha256);
  }

  /** Path of a signed manifest; throws EBADID for ids or versions outside the token rules. */
  manifestPath(contentId: string, version: string): string {
    if (!CONTENT_TOKEN.test(contentId) || !VERSION_TOKEN.test(version) || version.startsWith('.'))
      throw new ContentStoreError(
        'EBADID',
        'content ids and versions are 1-128 (version: 1-64) letters, digits or ._:-',
      );
    return path.join(this.opts.dir, 'manifests', contentId, `${version}.json`);
  }

  /** The stored `{ manifest, sig }` document as text, or undefined when not imported. */
  async readManifestText(contentId: string, version: string): Promise<string | undefined> {
    try {
      return await readFile(this.manifestPath(contentId, version), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Size of a stored blob, or undefined when it is not there. */
  async blobSize(sha256: string): Promise<number | undefined> {
    const s = await stat(this.blobPath(sha256)).catch(() => undefined);
    return s?.isFile() ? s.size : undefined;
  }
}
