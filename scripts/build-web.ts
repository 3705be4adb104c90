// Bundles the renter web app and the operator dashboard (cloud-lite/web/src) with esbuild
// into dist/web/ (or --out <dir>): renter.js, ops.js, shared chunks, app.css and map.css (the
// map page's, with Leaflet's; the map's code is a chunk loaded by that page only).
// `npm run build:web`; tests call buildWeb() themselves so a fresh clone needs no prior build.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_SRC = path.join(ROOT, 'cloud-lite/web/src');
export const DEFAULT_WEB_OUT = path.join(ROOT, 'dist/web');

export interface BuildWebOptions {
  /** Output folder; emptied first. Default dist/web. */
  outDir?: string;
  /** Default true (the production build); tests may skip it. */
  minify?: boolean;
}

/** Builds the assets; rejects with esbuild's error (file, line, message) on a build error. */
export async function buildWeb(
  opts: BuildWebOptions = {},
): Promise<{ outDir: string; files: string[] }> {
  const outDir = opts.outDir ?? DEFAULT_WEB_OUT;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: {
      renter: path.join(WEB_SRC, 'renter-main.tsx'),
      ops: path.join(WEB_SRC, 'ops-main.tsx'),
      app: path.join(WEB_SRC, 'styles.css'),
      // Leaflet's styles and the pins: loaded by the map page only (ui/kiosk-map-leaflet.tsx).
      map: path.join(WEB_SRC, 'map.css'),
    },
    // Leaflet's CSS names marker and layer images the pages never use (pins are HTML).
    loader: { '.png': 'empty', '.svg': 'empty' },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: opts.minify ?? true,
    // No source maps: the hub serves none (they would publish the sources next to the bundle).
    sourcemap: false,
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'silent',
    // Nothing from the server's environment may reach the bundle.
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return { outDir, files: Object.keys(result.metafile.outputs).map((f) => path.basename(f)) };
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
