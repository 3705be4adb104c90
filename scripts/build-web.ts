// Bundles the renter web app and the operator dashboard (cloud-lite/web/src) with esbuild
// into dist/web/ (or --out <dir>): renter-<hash>.js, ops-<hash>.js, shared chunk-<hash>.js,
// app-<hash>.css and favicon-<hash>.svg, each also precompressed (.br, .gz), and
// manifest.json naming them (the hub writes the pages' <script>, <link> and preloads from it).
// map.css (the map page's, with Leaflet's; the map's code is a chunk loaded by that page only)
// keeps its plain name too: the map chunk links it by URL.
// The renter app is also bundled for Node (ssr/renter-ssr-<hash>.mjs, with its chunks; never
// served): the hub renders /k/<id> with it, the kiosk's offer as markup in the page.
// `npm run build:web`; tests call buildWeb() themselves so a fresh clone needs no prior build.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

import { MANIFEST, SSR_DIR, type WebManifest } from '../cloud-lite/http/routes/web-routes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_SRC = path.join(ROOT, 'cloud-lite/web/src');
export const DEFAULT_WEB_OUT = path.join(ROOT, 'dist/web');

export interface BuildWebOptions {
  /** Output folder; emptied first. Default dist/web. */
  outDir?: string;
  /** Default true (the production build); tests may skip it. */
  minify?: boolean;
  /** Write the .br and .gz twins; default: as `minify` (tests skip the seconds brotli takes). */
  compress?: boolean;
}

/** Builds the assets; rejects with esbuild's error (file, line, message) on a build error. */
export async function buildWeb(
  opts: BuildWebOptions = {},
): Promise<{ outDir: string; files: string[]; manifest: WebManifest }> {
  const outDir = opts.outDir ?? DEFAULT_WEB_OUT;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  // What the browser build and the hub's server-side build of the renter app share.
  const common = {
    // Leaflet's CSS names marker and layer images the pages never use (pins are HTML).
    loader: { '.png': 'empty', '.svg': 'empty' },
    bundle: true,
    // The map's code stays a chunk of its own (loaded by the map page only; never on the hub).
    splitting: true,
    format: 'esm',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: opts.minify ?? true,
    // No source maps: the hub serves none (they would publish the sources next to the bundle).
    sourcemap: false,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'silent',
    // Nothing from the server's environment may reach the bundle.
    define: { 'process.env.NODE_ENV': '"production"' },
  } as const;
  const result = await build({
    ...common,
    entryPoints: {
      renter: path.join(WEB_SRC, 'renter-main.tsx'),
      ops: path.join(WEB_SRC, 'ops-main.tsx'),
      app: path.join(WEB_SRC, 'styles.css'),
      // Leaflet's styles and the pins: loaded by the map page only (ui/kiosk-map-leaflet.tsx).
      map: path.join(WEB_SRC, 'map.css'),
    },
    outdir: outDir,
    platform: 'browser',
    target: ['es2022'],
  });
  // The renter app for the hub to render pages with (cloud-lite/web/src/renter-ssr.tsx).
  const ssr = await build({
    ...common,
    entryPoints: { 'renter-ssr': path.join(WEB_SRC, 'renter-ssr.tsx') },
    outdir: path.join(outDir, SSR_DIR),
    platform: 'node',
    target: ['node20'],
    outExtension: { '.js': '.mjs' },
  });
  const ssrFile = Object.keys(ssr.metafile.outputs).find((f) => /\/renter-ssr-[^/]+\.mjs$/.test(f));
  if (!ssrFile) throw new Error('build-web: no server renderer');
  const outputs = result.metafile.outputs;
  const entryOf = (name: string) => {
    const [file, out] =
      Object.entries(outputs).find(([f]) => path.basename(f).startsWith(`${name}-`)) ?? [];
    if (!file || !out) throw new Error(`build-web: no output for entry ${name}`);
    const preload = out.imports
      .filter((i) => i.kind === 'import-statement')
      .map((i) => path.basename(i.path));
    return { js: path.basename(file), preload };
  };
  const cssFile = Object.keys(outputs).find((f) => /\/app-[^/]+\.css$/.test(f));
  if (!cssFile) throw new Error('build-web: no stylesheet');
  const icon = await readFile(path.join(WEB_SRC, 'favicon.svg'));
  const favicon = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
  await copyFile(path.join(WEB_SRC, 'favicon.svg'), path.join(outDir, favicon));
  const manifest: WebManifest = {
    css: path.basename(cssFile),
    favicon,
    renter: entryOf('renter'),
    ops: entryOf('ops'),
    ssr: `${SSR_DIR}/${path.basename(ssrFile)}`,
  };
  await writeFile(path.join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  const mapCss = Object.keys(outputs).find((f) => /\/map-[^/]+\.css$/.test(f));
  if (mapCss) await copyFile(mapCss, path.join(outDir, 'map.css'));
  const files = [
    ...Object.keys(outputs).map((f) => path.basename(f)),
    favicon,
    ...(mapCss ? ['map.css'] : []),
  ];
  // Precompressed twins: the hub sends .br or .gz as the browser accepts (no work per request).
  for (const f of (opts.compress ?? opts.minify ?? true) ? files : []) {
    const body = await readFile(path.join(outDir, f));
    await writeFile(
      path.join(outDir, `${f}.br`),
      brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    );
    await writeFile(path.join(outDir, `${f}.gz`), gzipSync(body, { level: 9 }));
  }
  return { outDir, files: [...files, MANIFEST], manifest };
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const i = process.argv.indexOf('--out');
  const outDir = i > 0 ? path.resolve(process.argv[i + 1] ?? '') : undefined;
  buildWeb({ outDir }).then(
    (r) => {
      process.stdout.write(
        `web assets built in ${path.relative(ROOT, r.outDir) || '.'}: ${r.files.join(', ')}\n`,
      );
    },
    (err: Error) => {
      process.stderr.write(`build-web: ${err.message}\n`);
      process.exit(1);
    },
  );
}
