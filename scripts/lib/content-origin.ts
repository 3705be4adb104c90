/**
 * A content origin for the demo: generated content packages (random bytes), their
 * manifests signed with the hub's key, served over HTTP on 127.0.0.1 with the layout the
 * kiosk's content cache downloads from (kiosk/content/content-cache.ts):
 *   GET <origin>/content/<contentId>/<version>/manifest.json  -> SignedManifest
 *   GET <origin>/blobs/sha256/<sha256>                          -> bytes (Range: bytes=N- -> 206)
 * The hub does not serve content yet; this stands in for its content origin.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildManifest,
  type ContentManifest,
  type SignedManifest,
  signManifest,
} from '../../kiosk/content/manifest.js';

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
  manifest: ContentManifest;
  signed: SignedManifest;
  sizeBytes: number;
}

export interface ContentOrigin {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  packages: ContentPackage[];
  manifestUrl(id: string, version: string): string;
  /** Requests served, for diagnostics. */
  requests(): number;
  stop(): Promise<void>;
}

/** A small demo catalog: a few large and many small files per package. */
export function demoContent(): ContentSpec[] {
  const docs: Record<string, number> = {};
  for (let i = 1; i <= 24; i++)
    docs[`lectures/week-${String(i).padStart(2, '0')}.txt`] = 2000 + i * 331;
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
      description: 'Lecture notes and exercises',
      files: { ...docs, 'slides/all.pdf': 2 ** 20 + 123 },
    },
  ];
}

/** Generates the packages and starts serving them; rejects if it cannot listen. */
export async function startContentOrigin(opts: {
  /** The hub's Ed25519 private key (PEM): manifests must verify with the hub's public key. */
  privateKeyPem: string;
  content?: ContentSpec[];
}): Promise<ContentOrigin> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const packages: ContentPackage[] = [];
  for (const spec of opts.content ?? demoContent()) {
    const entries = Object.entries(spec.files).map(([p, size]) => {
      const b = randomBytes(size);
      const sha256 = createHash('sha256').update(b).digest('hex');
      blobs.set(sha256, b);
      return { path: p, size, sha256 };
    });
    const manifest = buildManifest(spec.id, spec.version, spec.title, entries);
    const signed = signManifest(manifest, opts.privateKeyPem);
    manifests.set(`${spec.id}/${spec.version}`, Buffer.from(JSON.stringify(signed)));
    packages.push({ spec, manifest, signed, sizeBytes: manifest.totalBytes });
  }
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let body: Buffer | undefined;
    let type = 'application/octet-stream';
    if (parts[0] === 'content' && parts.length === 4 && parts[3] === 'manifest.json') {
      body = manifests.get(`${parts[1]}/${parts[2]}`);
      type = 'application/json';
    } else if (parts[0] === 'blobs' && parts[1] === 'sha256' && parts.length === 3) {
      body = blobs.get(parts[2] ?? '');
    }
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (m && start >= body.length && body.length > 0) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    const chunk = body.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'content-type': type,
      'content-length': String(chunk.length),
      ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    res.end(chunk);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    packages,
    manifestUrl: (id, version) =>
      `${url}/content/${encodeURIComponent(id)}/${encodeURIComponent(version)}/manifest.json`,
    requests: () => served,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
