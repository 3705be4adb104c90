/**
 * The demo's content: packages of generated files (random bytes) written as directory
 * trees and imported into the hub's content origin exactly as `cloud-lite content import`
 * does (content-addressed blobs, a manifest signed with the hub key, a catalog entry).
 * Kiosks download them from the hub (`<hub>/content/...`, `<hub>/blobs/sha256/...`) with
 * their Basic credentials.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { importContentTree, registerImportedContent } from '../../cloud-lite/content/index.js';
import type { HubServer } from '../../cloud-lite/server.js';

export interface ContentSpec {
  id: string;
  version: string;
  title: string;
  description?: string;
  /** path -> size in bytes (random content). */
  files: Record<string, number>;
}

export interface ContentPackage {
  spec: ContentSpec;
  /** Total bytes of the package's files. */
  sizeBytes: number;
  files: number;
}

/** A small demo catalog: a few large and many small files per package. */
export function demoContent(): ContentSpec[] {
  const notes: Record<string, number> = {};
  for (let i = 1; i <= 24; i++)
    notes[`lectures/week-${String(i).padStart(2, '0')}.txt`] = 2000 + i * 331;
  return [
    {
      id: 'nature-films',
      version: '1',
      title: 'Nature films (demo cut)',
      description: 'Three short films and their subtitles',
      files: {
        'films/coast.mp4': 3 * 2 ** 20,
        'films/forest.mp4': 2 * 2 ** 20 + 4096,
        'films/mountains.mp4': 2 ** 20 + 777,
        'subtitles/coast.en.srt': 12_000,
        'subtitles/forest.en.srt': 9_000,
        'README.txt': 400,
      },
    },
    {
      id: 'open-course',
      version: '2',
      title: 'Open course: physics 101',
      description: 'Lecture notes and slides',
      files: { ...notes, 'slides/all.pdf': 2 ** 20 + 123 },
    },
  ];
}

/** Writes the package's files under `dir/<id>-<version>/`; returns that directory. */
export async function writeContentTree(dir: string, spec: ContentSpec): Promise<string> {
  const root = path.join(dir, `${spec.id}-${spec.version}`);
  for (const [p, size] of Object.entries(spec.files)) {
    const file = path.join(root, ...p.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, randomBytes(size));
  }
  return root;
}

/**
 * Generates each package under `workDir` and imports it into the running hub's content
 * origin and catalog (in process, as `cloud-lite content import`). Rejects with the hub's
 * ContentStoreError (e.g. EVERSIONEXISTS for the same version with other files).
 */
export async function importDemoContent(
  server: HubServer,
  workDir: string,
  specs: ContentSpec[] = demoContent(),
): Promise<ContentPackage[]> {
  const out: ContentPackage[] = [];
  for (const spec of specs) {
    const source = await writeContentTree(workDir, spec);
    const r = await importContentTree(
      server.content,
      { source, contentId: spec.id, version: spec.version, title: spec.title },
      server.signingKey.privateKey,
    );
    await registerImportedContent(
      server.store,
      r.signed.manifest,
      { actor: 'system:demo' },
      new Date(),
    );
    out.push({
      spec,
      sizeBytes: r.signed.manifest.totalBytes,
      files: r.signed.manifest.files.length,
    });
  }
  return out;
}
