/**
 * Puts an imported package into the rental catalog (content id, title, version, size), so
 * disk types and reservations can reference it. An existing entry keeps its description.
 */
import type { WireContentManifest } from '../../protocol/manifest.js';
import { type Actor, audit } from '../audit.js';
import type { ContentRecord, Store } from '../store/types.js';

export async function registerImportedContent(
  store: Store,
  m: WireContentManifest,
  who: Actor,
  now: Date,
): Promise<ContentRecord> {
  return store.transaction(async (tx) => {
    const old = await tx.content.get(m.contentId);
    const rec: ContentRecord = {
      id: m.contentId,
      title: m.title,
      version: m.version,
      sizeBytes: m.totalBytes,
      description: old?.description ?? '',
    };
    if (old) await tx.content.update(rec.id, rec);
    else await tx.content.insert(rec);
    await audit(tx, who, now.toISOString(), 'content.imported', rec.id, {
      version: rec.version,
      sizeBytes: rec.sizeBytes,
      files: m.files.length,
    });
    return rec;
  });
}
