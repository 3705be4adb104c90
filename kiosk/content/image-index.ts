/**
 * The SQLite index of the block images in the content cache (tables from migration 004):
 * one row per content version and capacity class, its state (`building` until its block
 * map is written), the bytes it takes on the cache disk, when it was last used, and who
 * pins it. Synchronous (better-sqlite3).
 */
import { createHash } from 'node:crypto';
import type { KioskDb } from '../db/open-db.js';

export interface ImageRow {
  imageId: string;
  contentId: string;
  version: string;
  classBytes: number;
  clusterBytes: number;
  state: 'building' | 'ready';
  /** Bytes the image and its map take on the cache's file system (allocated, not apparent). */
  diskBytes: number;
  /** Bytes its block map lists (what a disk gets written). */
  mappedBytes: number;
  lastUsedAt: string;
}

/** The pin a build holds on its image until the image is ready or removed. */
export const BUILDING_PIN = 'building';

/** A stable id (and file name) for content@version in a capacity class. */
export function imageIdOf(contentId: string, version: string, classBytes: number): string {
  const h = createHash('sha256').update(`${contentId}\0${version}\0${classBytes}`).digest('hex');
  return `img-${h.slice(0, 32)}`;
}

interface Raw {
  image_id: string;
  content_id: string;
  version: string;
  class_bytes: number;
  cluster_bytes: number;
  state: 'building' | 'ready';
  disk_bytes: number;
  mapped_bytes: number;
  last_used_at: string;
}

const toRow = (r: Raw): ImageRow => ({
  imageId: r.image_id,
  contentId: r.content_id,
  version: r.version,
  classBytes: r.class_bytes,
  clusterBytes: r.cluster_bytes,
  state: r.state,
  diskBytes: r.disk_bytes,
  mappedBytes: r.mapped_bytes,
  lastUsedAt: r.last_used_at,
});

export class ImageIndex {
  constructor(private readonly db: KioskDb) {}

  get(imageId: string): ImageRow | undefined {
    const r = this.db.prepare('SELECT * FROM images WHERE image_id = ?').get(imageId) as
      | Raw
      | undefined;
    return r ? toRow(r) : undefined;
  }

  /**
   * Records a build starting (state `building`, pinned `building`), replacing a row left
   * for the same image; `diskBytes` is the estimate the cache made room for.
   */
  begin(
    i: Pick<
      ImageRow,
      'imageId' | 'contentId' | 'version' | 'classBytes' | 'clusterBytes' | 'diskBytes'
    >,
    now: string,
  ): void {
    const { db } = this;
    db.transaction(() => {
      db.prepare('DELETE FROM images WHERE image_id = ?').run(i.imageId);
      db.prepare(
        `INSERT INTO images (image_id, content_id, version, class_bytes, cluster_bytes, state, disk_bytes, created_at, last_used_at)
         VALUES (?, ?, ?, ?, ?, 'building', ?, ?, ?)`,
      ).run(i.imageId, i.contentId, i.version, i.classBytes, i.clusterBytes, i.diskBytes, now, now);
      db.prepare('INSERT INTO image_pins (image_id, pin, created_at) VALUES (?, ?, ?)').run(
        i.imageId,
        BUILDING_PIN,
        now,
      );
    })();
  }

  /** The build finished: state `ready` with the real sizes; the `building` pin goes. */
  markReady(imageId: string, sizes: { diskBytes: number; mappedBytes: number }, now: string): void {
    const { db } = this;
    db.transaction(() => {
      db.prepare(
        "UPDATE images SET state = 'ready', disk_bytes = ?, mapped_bytes = ?, last_used_at = ? WHERE image_id = ?",
      ).run(sizes.diskBytes, sizes.mappedBytes, now, imageId);
      db.prepare('DELETE FROM image_pins WHERE image_id = ? AND pin = ?').run(
        imageId,
        BUILDING_PIN,
      );
    })();
  }

  remove(imageId: string): void {
    this.db.prepare('DELETE FROM images WHERE image_id = ?').run(imageId);
  }

  touch(imageId: string, now: string): void {
    this.db.prepare('UPDATE images SET last_used_at = ? WHERE image_id = ?').run(now, imageId);
  }

  pin(imageId: string, pin: string, now: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO image_pins (image_id, pin, created_at) VALUES (?, ?, ?)')
      .run(imageId, pin, now);
  }

  unpin(imageId: string, pin: string): void {
    this.db.prepare('DELETE FROM image_pins WHERE image_id = ? AND pin = ?').run(imageId, pin);
  }

  pins(imageId: string): string[] {
    return (
      this.db
        .prepare('SELECT pin FROM image_pins WHERE image_id = ? ORDER BY pin')
        .all(imageId) as { pin: string }[]
    ).map((r) => r.pin);
  }

  /** Bytes every image takes on the cache disk (builds count their estimate). */
  usedBytes(): number {
    return (
      this.db.prepare('SELECT coalesce(sum(disk_bytes), 0) AS n FROM images').get() as { n: number }
    ).n;
  }

  /** Unpinned images, least recently used first. */
  evictionCandidates(): ImageRow[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM images i
           WHERE NOT EXISTS (SELECT 1 FROM image_pins p WHERE p.image_id = i.image_id)
           ORDER BY i.last_used_at, i.rowid`,
        )
        .all() as Raw[]
    ).map(toRow);
  }

  list(): ImageRow[] {
    return (
      this.db
        .prepare('SELECT * FROM images ORDER BY content_id, version, class_bytes')
        .all() as Raw[]
    ).map(toRow);
  }
}
