/**
 * 005: block images in the content cache. An image is one content version formatted as
 * an exFAT volume the size of a disk capacity class, with its block map; it is built from
 * the cached blobs and, like content, evicted least-recently-used unless pinned (a disk
 * being written from it, a build in progress). Files: `<cache>/images/<file>.img|.bmap`.
 */
export const sql = `
CREATE TABLE images (
  image_id TEXT PRIMARY KEY,
  content_id TEXT NOT NULL,
  version TEXT NOT NULL,
  class_bytes INTEGER NOT NULL CHECK (class_bytes > 0),
  cluster_bytes INTEGER NOT NULL CHECK (cluster_bytes > 0),
  state TEXT NOT NULL CHECK (state IN ('building', 'ready')),
  disk_bytes INTEGER NOT NULL DEFAULT 0 CHECK (disk_bytes >= 0),
  mapped_bytes INTEGER NOT NULL DEFAULT 0 CHECK (mapped_bytes >= 0),
  created_at TEXT NOT NULL,
  last_used_at TEXT NOT NULL,
  UNIQUE (content_id, version, class_bytes)
) STRICT;
CREATE INDEX images_lru ON images (last_used_at);

CREATE TABLE image_pins (
  image_id TEXT NOT NULL REFERENCES images (image_id) ON DELETE CASCADE,
  pin TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (image_id, pin)
) STRICT;
`;
