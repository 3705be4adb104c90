/**
 * A staging view of cached content: a temp directory laid out as the manifest's tree
 * whose files are hard links to the content-addressed blobs (same filesystem, so no
 * bytes are copied; falls back to symlinks, which rsync follows with --copy-links).
 */
import { link, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { ContentManifest } from '../content/manifest.js';

export interface StagingView {
  root: string;
  /** True when symlinks were used: rsync needs --copy-links. */
  symlinks: boolean;
  remove(): Promise<void>;
}

export async function buildStaging(
  stagingDir: string,
  manifest: ContentManifest,
  blobPath: (sha256: string) => string,
): Promise<StagingView> {
  const root = await mkdtemp(path.join(stagingDir, `${manifest.contentId}-`));
  const view: StagingView = {
    root,
    symlinks: false,
    remove: () => rm(root, { recursive: true, force: true }),
  };
  try {
    const dirs = new Set<string>();
    for (const f of manifest.files) dirs.add(path.dirname(path.join(root, ...f.path.split('/'))));
    for (const d of dirs) await mkdir(d, { recursive: true });
    for (const f of manifest.files) {
      const dest = path.join(root, ...f.path.split('/'));
      if (view.symlinks) {
        await symlink(blobPath(f.sha256), dest);
        continue;
      }
      try {
        await link(blobPath(f.sha256), dest);
      } catch (err) {
        if (
          (err as NodeJS.ErrnoException).code !== 'EXDEV' &&
          (err as NodeJS.ErrnoException).code !== 'EPERM'
        )
          throw err;
        view.symlinks = true;
        await symlink(blobPath(f.sha256), dest);
      }
    }
  } catch (err) {
    await view.remove();
    throw err;
  }
  return view;
}
