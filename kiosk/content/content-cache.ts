/**
 * The kiosk's content cache: manifests and blobs from the hub's content origin (or a
 * technician's USB stick), indexed in SQLite, LRU-evicted under `maxBytes`, never
 * evicting pinned content.
 *
 * Content origin URL layout (the hub serves it; `origin` is e.g. `https://hub/cdn`):
 *   GET <origin>/content/<contentId>/<version>/manifest.json  -> SignedManifest JSON
 *   GET <origin>/blobs/sha256/<sha256>                          -> the file's bytes
 *       (must honour `Range: bytes=N-` with 206 for resume; a 200 restarts the file)
 * Path segments are URI-encoded.
 */

import type { KeyObject } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { KioskDb } from '../db/open-db.js';
import type { KioskLogger } from '../log.js';
import type { TimeSource } from '../state/clock.js';
import { BlobStore, hashFile } from './blob-store.js';
import { ContentIndex } from './content-index.js';
import { downloadToPart, headersUnder } from './download.js';
import { ContentError } from './errors.js';
import { ImageIndex, type ImageRow } from './image-index.js';
import { mapLimit } from './limit.js';
import { type ContentManifest, verifySignedManifest } from './manifest.js';

export interface FetchProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface ContentCacheOptions {
  /** `<dataDir>/cache` holds the blobs, `.part` files and staging views. */
  cacheDir: string;
  /** Content origin base URL (no trailing slash); downloads need it. */
  origin?: string | undefined;
  /** Hub public key (PEM or KeyObject) that signs manifests. */
  hubPublicKey: KeyObject | string;
  /** Upper bound of blob bytes kept; LRU eviction of unpinned content above it. */
  maxBytes: number;
  /** Blobs downloaded at once. Default 4. */
  parallelDownloads?: number;
  /** Attempts per blob (resuming each time). Default 4. */
  attempts?: number;
  /** Pause before the n-th retry: n * retryDelayMs. Default 500. */
  retryDelayMs?: number;
  idleTimeoutMs?: number;
  /**
   * Headers sent with every request to `origin` (e.g. the kiosk's Basic credentials); never
   * sent to another host (a manifestUrl elsewhere gets none).
   */
  headers?: Record<string, string> | undefined;
}

export interface ContentCacheDeps {
  db: KioskDb;
  clock: TimeSource;
  log: KioskLogger;
  options: ContentCacheOptions;
  fetch?: typeof fetch;
}

export interface EnsureOptions {
  /** Overrides the origin's manifest URL (PrepareDisk's `manifestUrl`). */
  manifestUrl?: string | undefined;
  /** Aborting rejects with EABORTED; `.part` files stay for a resume. */
  signal?: AbortSignal | undefined;
  onProgress?: ((p: FetchProgress) => void) | undefined;
}

export class ContentCache {
  readonly blobs: BlobStore;
  readonly index: ContentIndex;
  /** Block images of content per capacity class (built by kiosk/cloning's ImageStore). */
  readonly images: ImageIndex;

  constructor(private readonly deps: ContentCacheDeps) {
    this.blobs = new BlobStore(deps.options.cacheDir);
    this.index = new ContentIndex(deps.db);
    this.images = new ImageIndex(deps.db);
  }

  /** `<cacheDir>/images`: `<imageId>.img` and `<imageId>.bmap`. */
  get imagesDir(): string {
    return path.join(this.deps.options.cacheDir, 'images');
  }

  /** The files of an image. */
  imageFiles(imageId: string): { image: string; bmap: string } {
    return {
      image: path.join(this.imagesDir, `${imageId}.img`),
      bmap: path.join(this.imagesDir, `${imageId}.bmap`),
    };
  }

  /**
   * Creates the directories, clears stale staging views (`.part` files stay), and drops
   * images whose build a restart interrupted and image files no row knows.
   */
  async start(): Promise<void> {
    await this.blobs.init();
    await mkdir(this.imagesDir, { recursive: true });
    for (const e of await readdir(this.blobs.stagingDir)) {
      await rm(path.join(this.blobs.stagingDir, e), { recursive: true, force: true });
    }
    for (const i of this.images.list()) if (i.state === 'building') await this.evictImage(i);
    const known = new Set(this.images.list().map((i) => i.imageId));
    for (const f of await readdir(this.imagesDir)) {
      if (!known.has(f.replace(/\.(img|bmap)(\.tmp)?$/, '')))
        await rm(path.join(this.imagesDir, f), { recursive: true, force: true });
    }
  }

  async stop(): Promise<void> {}

  blobPath(sha256: string): string {
    return this.blobs.blobPath(sha256);
  }

  /** The manifest if the content is completely cached, else undefined. */
  complete(contentId: string, version: string): ContentManifest | undefined {
    return this.index.get(contentId, version)?.complete
      ? this.index.manifest(contentId, version)
      : undefined;
  }

  /** Keeps content from eviction until unpin(pin). `pin` is e.g. a reservation id. */
  pin(contentId: string, version: string, pin: string): void {
    this.index.pin(contentId, version, pin, this.now());
  }

  unpin(pin: string, contentId?: string, version?: string): void {
    this.index.unpin(pin, contentId, version);
  }

  touch(contentId: string, version: string): void {
    this.index.touch(contentId, version, this.now());
  }

  /** Bytes of every blob and every block image in the cache. */
  usedBytes(): number {
    return this.index.usedBytes() + this.images.usedBytes();
  }

  /**
   * Makes the content completely cached and returns its manifest: fetches and verifies
   * the manifest if unknown, evicts LRU unpinned content to make room, downloads the
   * missing blobs (parallel, resumed, hash-checked). Rejects with ContentError
   * (EMANIFEST, ESIGNATURE, EDOWNLOAD, EHASH, ENOSPACE, EABORTED). Pin the content first
   * when it must survive concurrent evictions.
   */
  async ensure(
    contentId: string,
    version: string,
    opts: EnsureOptions = {},
  ): Promise<ContentManifest> {
    const m =
      this.index.manifest(contentId, version) ??
      (await this.fetchManifest(contentId, version, opts));
    const missing = [];
    for (const f of uniqueBlobs(m)) {
      if (!(this.index.hasBlob(f.sha256) && (await this.blobs.has(f.sha256, f.size))))
        missing.push(f);
    }
    const total = {
      bytesDone: 0,
      bytesTotal: m.totalBytes,
      filesDone: 0,
      filesTotal: m.files.length,
    };
    const missingBytes = missing.reduce((s, f) => s + f.size, 0);
    total.bytesDone = m.totalBytes - missingBytes;
    total.filesDone = m.files.length - missing.length;
    opts.onProgress?.({ ...total });
    if (missing.length > 0) {
      this.pin(contentId, version, 'fetching');
      try {
        await this.makeRoom(missingBytes, `${contentId}@${version}`);
        await mapLimit(missing, this.deps.options.parallelDownloads ?? 4, async (f) => {
          await this.downloadBlob(f.sha256, f.size, opts.signal, (n) => {
            total.bytesDone += n;
            opts.onProgress?.({ ...total });
          });
          total.filesDone++;
          opts.onProgress?.({ ...total });
        });
      } finally {
        this.unpin('fetching', contentId, version);
      }
    }
    this.index.markComplete(contentId, version, this.now());
    return m;
  }

  /** Fetches, verifies and records a manifest (content incomplete until ensure()). */
  async fetchManifest(
    contentId: string,
    version: string,
    opts: EnsureOptions = {},
  ): Promise<ContentManifest> {
    const url =
      opts.manifestUrl ??
      this.url(
        `content/${encodeURIComponent(contentId)}/${encodeURIComponent(version)}/manifest.json`,
      );
    let doc: unknown;
    try {
      const res = await (this.deps.fetch ?? fetch)(url, {
        signal: opts.signal ?? null,
        headers: this.headersFor(url),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      doc = await res.json();
    } catch (err) {
      if (opts.signal?.aborted)
        throw new ContentError('EABORTED', `manifest fetch of ${url} cancelled`);
      throw new ContentError(
        'EDOWNLOAD',
        `cannot fetch manifest ${url}: ${(err as Error).message}; check the hub's content origin`,
        { cause: err },
      );
    }
    const m = verifySignedManifest(doc, this.deps.options.hubPublicKey);
    if (m.contentId !== contentId || m.version !== version) {
      throw new ContentError(
        'EMANIFEST',
        `manifest at ${url} is for ${m.contentId}@${m.version}, not ${contentId}@${version}`,
      );
    }
    this.index.putManifest(m, this.now());
    return m;
  }

  /**
   * Technician import from a mounted USB stick: `<dir>/manifest.json` (a SignedManifest,
   * verified with the hub key) and the files laid out under `<dir>/files/<path>`. Every
   * file is copied into `tmp`, hash-checked and committed. Rejects like ensure().
   */
  async importFromDirectory(
    dir: string,
    opts: { signal?: AbortSignal; onProgress?: (p: FetchProgress) => void } = {},
  ): Promise<ContentManifest> {
    const doc = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as unknown;
    const m = verifySignedManifest(doc, this.deps.options.hubPublicKey);
    this.index.putManifest(m, this.now());
    const p = { bytesDone: 0, bytesTotal: m.totalBytes, filesDone: 0, filesTotal: m.files.length };
    this.pin(m.contentId, m.version, 'fetching');
    try {
      await this.makeRoom(m.totalBytes, `${m.contentId}@${m.version}`);
      const seen = new Set<string>();
      for (const f of m.files) {
        if (opts.signal?.aborted) throw new ContentError('EABORTED', `import of ${dir} cancelled`);
        if (!seen.has(f.sha256) && !(await this.blobs.has(f.sha256, f.size))) {
          seen.add(f.sha256);
          const tmp = path.join(this.blobs.tmpDir, `${f.sha256}.import`);
          await copyFile(path.join(dir, 'files', ...f.path.split('/')), tmp);
          await this.blobs.commit(tmp, f.sha256, f.size).catch((err: unknown) => {
            throw new ContentError(
              'EHASH',
              `import: ${f.path} on the stick does not match its manifest entry; copy the package again`,
              { cause: err },
            );
          });
        }
        this.index.addBlob(f.sha256, f.size, this.now());
        p.bytesDone += f.size;
        p.filesDone++;
        opts.onProgress?.({ ...p });
      }
    } finally {
      this.unpin('fetching', m.contentId, m.version);
    }
    this.index.markComplete(m.contentId, m.version, this.now());
    this.deps.log.info({ contentId: m.contentId, version: m.version, dir }, 'content imported');
    return m;
  }

  /**
   * Evicts least-recently-used unpinned content until `incoming` more bytes fit under
   * maxBytes. Rejects ENOSPACE when even evicting everything unpinned would not do.
   */
  async makeRoom(incoming: number, forWhat = 'new content'): Promise<void> {
    const max = this.deps.options.maxBytes;
    if (this.usedBytes() + incoming <= max) return;
    for (const c of this.evictionCandidates()) {
      await this.evictEntry(c);
      if (this.usedBytes() + incoming <= max) return;
    }
    throw new ContentError(
      'ENOSPACE',
      `cache cannot fit ${forWhat} (${incoming} bytes): ${this.usedBytes()} of ${max} bytes are pinned; raise the cache size or cancel reservations`,
    );
  }

  /**
   * Technician prune: evicts every unpinned package (nothing a reservation, a clone or a
   * download holds). Resolves with what was removed and the bytes freed; not cancellable.
   */
  async prune(): Promise<{
    removed: Array<{ contentId: string; version: string; classBytes?: number }>;
    freedBytes: number;
  }> {
    const before = this.usedBytes();
    const removed: Array<{ contentId: string; version: string; classBytes?: number }> = [];
    for (const c of this.evictionCandidates()) {
      await this.evictEntry(c);
      removed.push({
        contentId: c.contentId,
        version: c.version,
        ...(c.kind === 'image' ? { classBytes: c.classBytes } : {}),
      });
    }
    return { removed, freedBytes: before - this.usedBytes() };
  }

  /** Removes one block image and its map (pinned or not: the caller decides). */
  async evictImage(image: Pick<ImageRow, 'imageId' | 'contentId' | 'version'>): Promise<void> {
    const f = this.imageFiles(image.imageId);
    await rm(f.image, { force: true });
    await rm(f.bmap, { force: true });
    this.images.remove(image.imageId);
    this.deps.log.info(
      { contentId: image.contentId, version: image.version, imageId: image.imageId },
      'block image evicted',
    );
  }

  /** Unpinned content and unpinned images, least recently used first. */
  private evictionCandidates(): Array<
    | ({ kind: 'content' } & { contentId: string; version: string; lastUsedAt: string })
    | ({ kind: 'image' } & ImageRow)
  > {
    return [
      ...this.index.evictionCandidates().map((c) => ({ kind: 'content' as const, ...c })),
      ...this.images.evictionCandidates().map((i) => ({ kind: 'image' as const, ...i })),
    ].sort((a, b) => (a.lastUsedAt < b.lastUsedAt ? -1 : a.lastUsedAt > b.lastUsedAt ? 1 : 0));
  }

  private async evictEntry(
    c: { kind: 'content'; contentId: string; version: string } | ({ kind: 'image' } & ImageRow),
  ): Promise<void> {
    if (c.kind === 'image') await this.evictImage(c);
    else await this.evict(c.contentId, c.version);
  }

  /** Removes one package and the blobs no other package uses. */
  private async evict(contentId: string, version: string): Promise<void> {
    for (const sha of this.index.removeContent(contentId, version)) {
      await this.blobs.remove(sha);
      this.index.forgetBlob(sha);
    }
    this.deps.log.info({ contentId, version }, 'content evicted');
  }

  private async downloadBlob(
    sha256: string,
    size: number,
    signal: AbortSignal | undefined,
    onBytes: (n: number) => void,
  ): Promise<void> {
    const o = this.deps.options;
    const url = this.url(`blobs/sha256/${sha256}`);
    const part = path.join(this.blobs.tmpDir, `${sha256}.part`);
    const attempts = o.attempts ?? 4;
    let hashFailures = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const got = await downloadToPart({
          url,
          partFile: part,
          size,
          signal,
          onBytes,
          idleTimeoutMs: o.idleTimeoutMs,
          headers: this.headersFor(url),
          fetch: this.deps.fetch,
        });
        await this.blobs.commit(part, sha256, size, got);
        this.index.addBlob(sha256, size, this.now());
        return;
      } catch (err) {
        const e = err as ContentError;
        if (e.code === 'EABORTED' || attempt >= attempts) throw err;
        if (e.code === 'EHASH' && ++hashFailures >= 2) throw err;
        this.deps.log.warn({ sha256, attempt, err: e.message }, 'blob download failed; retrying');
        await new Promise((r) => setTimeout(r, attempt * (o.retryDelayMs ?? 500)));
      }
    }
  }

  private url(rel: string): string {
    const origin = this.deps.options.origin;
    if (!origin)
      throw new ContentError(
        'EDOWNLOAD',
        'no content origin configured; set content.origin or import the content from USB',
      );
    return `${origin.replace(/\/+$/, '')}/${rel}`;
  }

  /** The configured headers for URLs under the origin; none for other hosts. */
  private headersFor(url: string): Record<string, string> {
    return headersUnder(this.deps.options.origin, this.deps.options.headers, url);
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function uniqueBlobs(m: ContentManifest): { sha256: string; size: number }[] {
  const seen = new Map<string, number>();
  for (const f of m.files) seen.set(f.sha256, f.size);
  return [...seen].map(([sha256, size]) => ({ sha256, size }));
}

export { hashFile };
