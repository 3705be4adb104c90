/**
 * Content fixtures: generated content trees, signed manifests, a local content origin
 * (HTTP on port 0) with faults, and a USB-stick layout for imports.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  buildManifest,
  type ContentManifest,
  type ManifestFile,
  type SignedManifest,
  signManifest,
} from '../../kiosk/content/manifest.js';
import { generateSigningKeyPair } from '../../protocol/index.js';

export interface GeneratedContent {
  manifest: ContentManifest;
  signed: SignedManifest;
  /** sha256 -> bytes */
  blobs: Map<string, Buffer>;
  /** path -> bytes */
  files: Map<string, Buffer>;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A key pair for the fake hub (PEM). */
export const hubKeys = () => generateSigningKeyPair();

/** Builds content from path -> size (random bytes) or path -> Buffer. */
export function makeContent(
  contentId: string,
  version: string,
  spec: Record<string, number | Buffer>,
  privateKeyPem: string,
): GeneratedContent {
  const files = new Map<string, Buffer>();
  const blobs = new Map<string, Buffer>();
  const entries: ManifestFile[] = [];
  for (const [p, s] of Object.entries(spec)) {
    const b = typeof s === 'number' ? randomBytes(s) : s;
    files.set(p, b);
    const h = sha256(b);
    blobs.set(h, b);
    entries.push({ path: p, size: b.length, sha256: h });
  }
  const manifest = buildManifest(contentId, version, `Title of ${contentId}`, entries);
  return { manifest, signed: signManifest(manifest, privateKeyPem), blobs, files };
}

/** A mixed content set: large and small files, a deep tree, unicode names. */
export function mixedSpec(opts: { large?: number; small?: number } = {}): Record<string, number> {
  const spec: Record<string, number> = {};
  for (let i = 0; i < (opts.large ?? 2); i++) spec[`video/part-${i}.bin`] = 3 * 2 ** 20 + 17 * i;
  for (let i = 0; i < (opts.small ?? 40); i++) spec[`docs/page-${i}.txt`] = 1 + ((i * 977) % 9000);
  spec['a/b/c/d/e/f/g/h/deep.dat'] = 4096;
  spec['Música/Canción ñ.txt'] = 123;
  spec['日本語/ファイル 名.txt'] = 321;
  spec['emoji/😀 smile.txt'] = 10;
  spec['empty.txt'] = 0;
  return spec;
}

/** Lays the content out as a technician's USB stick: manifest.json + files/<path>. */
export async function writeUsbStick(dir: string, c: GeneratedContent): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(c.signed));
  for (const [p, b] of c.files) {
    const dest = path.join(dir, 'files', ...p.split('/'));
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, b);
  }
}

export interface OriginFaults {
  /** Cut the connection after this many body bytes, for the first N requests of a blob. */
  cutAfterBytes?: number;
  cutTimes?: number;
  /** Serve these bytes instead of the real blob. */
  corrupt?: Set<string>;
  /** Ignore Range headers (always 200). */
  noRange?: boolean;
}

export interface TestOrigin {
  url: string;
  requests: { url: string; range?: string }[];
  faults: OriginFaults;
  close(): Promise<void>;
}

/** Serves `<url>/content/<id>/<ver>/manifest.json` and `<url>/blobs/sha256/<hash>`. */
export async function startOrigin(
  contents: GeneratedContent[],
  faults: OriginFaults = {},
): Promise<TestOrigin> {
  const requests: TestOrigin['requests'] = [];
  const cuts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    requests.push({ url, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const mm = /^\/content\/([^/]+)\/([^/]+)\/manifest\.json$/.exec(url);
    if (mm) {
      const c = contents.find(
        (x) =>
          x.manifest.contentId === decodeURIComponent(mm[1] ?? '') &&
          x.manifest.version === decodeURIComponent(mm[2] ?? ''),
      );
      if (!c) return void res.writeHead(404).end();
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(c.signed));
    }
    const bm = /^\/blobs\/sha256\/([0-9a-f]{64})$/.exec(url);
    const hash = bm?.[1] ?? '';
    let body = contents.map((c) => c.blobs.get(hash)).find((b) => b !== undefined);
    if (!body) return void res.writeHead(404).end();
    if (faults.corrupt?.has(hash)) body = Buffer.from(body.map((x) => x ^ 0xff));
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !faults.noRange) start = Number(range[1]);
    const slice = body.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-length': String(slice.length),
      ...(start > 0 ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const n = cuts.get(hash) ?? 0;
    if (
      faults.cutAfterBytes !== undefined &&
      n < (faults.cutTimes ?? 1) &&
      slice.length > faults.cutAfterBytes
    ) {
      cuts.set(hash, n + 1);
      res.write(slice.subarray(0, faults.cutAfterBytes), () => {
        setTimeout(() => res.destroy(), 20);
      });
      return;
    }
    res.end(slice);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
