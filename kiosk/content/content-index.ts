/**
 * The SQLite index of the content cache (tables from migration 002): which content and
 * version, its files, when last used, who pins it, and which blobs are on disk.
 * Synchronous (better-sqlite3).
 */
import type { KioskDb } from '../db/open-db.js';
import type { ContentManifest } from './manifest.js';

export interface ContentRow {
  contentId: string;
  version: string;
  totalBytes: number;
  complete: boolean;
  lastUsedAt: string;
}

export class ContentIndex {
  constructor(private readonly db: KioskDb) {}

  /** Records (or replaces) a manifest; the content is incomplete until markComplete. */
  putManifest(m: ContentManifest, now: string): void {
    const { db } = this;
    db.transaction(() => {
      const exists = db
        .prepare('SELECT 1 FROM content WHERE content_id = ? AND version = ?')
        .get(m.contentId, m.version);
      if (exists) return;
      db.prepare(
        `INSERT INTO content (content_id, version, title, manifest, total_bytes, complete, added_at, last_used_at)
         VALUES (?, ?, ?, ?, ?, 0, ?, ?)`,
      ).run(m.contentId, m.version, m.title, JSON.stringify(m), m.totalBytes, now, now);
      const ins = db.prepare(
        'INSERT INTO content_files (content_id, version, path, size, sha256) VALUES (?, ?, ?, ?, ?)',
      );
      for (const f of m.files) ins.run(m.contentId, m.version, f.path, f.size, f.sha256);
    })();
  }

  manifest(contentId: string, version: string): ContentManifest | undefined {
    const row = this.db
      .prepare('SELECT manifest FROM content WHERE content_id = ? AND version = ?')
      .get(contentId, version) as { manifest: string } | undefined;
    return row ? (JSON.parse(row.manifest) as ContentManifest) : undefined;
  }

  get(contentId: string, version: string): ContentRow | undefined {
    const r = this.db
      .prepare('SELECT * FROM content WHERE content_id = ? AND version = ?')
      .get(contentId, version) as
      | {
          content_id: string;
          version: string;
          total_bytes: number;
          complete: number;
          last_used_at: string;
        }
      | undefined;
    return r
      ? {
          contentId: r.content_id,
          version: r.version,
          totalBytes: r.total_bytes,
          complete: r.complete === 1,
          lastUsedAt: r.last_used_at,
        }
      : undefined;
  }

  markComplete(contentId: string, version: string, now: string): void {
    this.db
      .prepare(
        'UPDATE content SET complete = 1, last_used_at = ? WHERE content_id = ? AND version = ?',
      )
      .run(now, contentId, version);
  }

  touch(contentId: string, version: string, now: string): void {
    this.db
      .prepare('UPDATE content SET last_used_at = ? WHERE content_id = ? AND version = ?')
      .run(now, contentId, version);
  }

  addBlob(sha256: string, size: number, now: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO blobs (sha256, size, added_at) VALUES (?, ?, ?)')
      .run(sha256, size, now);
  }

  hasBlob(sha256: string): boolean {
    return this.db.prepare('SELECT 1 FROM blobs WHERE sha256 = ?').get(sha256) !== undefined;
  }

  forgetBlob(sha256: string): void {
    this.db.prepare('DELETE FROM blobs WHERE sha256 = ?').run(sha256);
  }

  /** Bytes of every blob in the store. */
  usedBytes(): number {
    return (this.db.prepare('SELECT coalesce(sum(size), 0) AS n FROM blobs').get() as { n: number })
      .n;
  }

  pin(contentId: string, version: string, pin: string, now: string): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO content_pins (content_id, version, pin, created_at) VALUES (?, ?, ?, ?)',
      )
      .run(contentId, version, pin, now);
  }

  /** Removes `pin` from every content it pins (or only from the given one). */
  unpin(pin: string, contentId?: string, version?: string): number {
    if (contentId !== undefined && version !== undefined) {
      return this.db
        .prepare('DELETE FROM content_pins WHERE pin = ? AND content_id = ? AND version = ?')
        .run(pin, contentId, version).changes;
    }
    return this.db.prepare('DELETE FROM content_pins WHERE pin = ?').run(pin).changes;
  }

  pins(contentId: string, version: string): string[] {
    return (
      this.db
        .prepare('SELECT pin FROM content_pins WHERE content_id = ? AND version = ? ORDER BY pin')
        .all(contentId, version) as { pin: string }[]
    ).map((r) => r.pin);
  }

  /** Unpinned content, least recently used first. */
  evictionCandidates(): ContentRow[] {
    return (
      this.db
        .prepare(
          `SELECT c.content_id, c.version FROM content c
           WHERE NOT EXISTS (SELECT 1 FROM content_pins p
                             WHERE p.content_id = c.content_id AND p.version = c.version)
           ORDER BY c.last_used_at, c.rowid`,
        )
        .all() as { content_id: string; version: string }[]
    ).map((r) => this.get(r.content_id, r.version) as ContentRow);
  }

  /**
   * Deletes a content record and returns the blobs no other content uses any more
   * (the caller deletes those files, then forgetBlob()).
   */
  removeContent(contentId: string, version: string): string[] {
    const { db } = this;
    return db.transaction(() => {
      const shas = (
        db
          .prepare('SELECT DISTINCT sha256 FROM content_files WHERE content_id = ? AND version = ?')
          .all(contentId, version) as { sha256: string }[]
      ).map((r) => r.sha256);
      db.prepare('DELETE FROM content WHERE content_id = ? AND version = ?').run(
        contentId,
        version,
      );
      const used = db.prepare('SELECT 1 FROM content_files WHERE sha256 = ? LIMIT 1');
      return shas.filter((s) => used.get(s) === undefined);
    })();
  }

  list(): ContentRow[] {
    return (
      this.db
        .prepare('SELECT content_id, version FROM content ORDER BY content_id, version')
        .all() as {
        content_id: string;
        version: string;
      }[]
    ).map((r) => this.get(r.content_id, r.version) as ContentRow);
  }
}
