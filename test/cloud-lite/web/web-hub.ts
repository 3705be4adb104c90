// A real cloud-lite server on port 0 with a temp SQLite file, serving freshly built web assets.
// Used by the web serve tests and the browser tests (test/e2e/browser).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { type HubConfig, validateConfig } from '../../../cloud-lite/config.js';
import { HubServer, type HubServerDeps } from '../../../cloud-lite/server.js';
import { buildWeb } from '../../../scripts/build-web.js';
import { writeMapTiles } from '../../../scripts/make-map-tiles.js';

export const WEB_ADMIN_TOKEN = 'web-test-admin-token-0123456789';

export interface WebHub {
  server: HubServer;
  baseUrl: string;
  wsUrl: string;
  dir: string;
  assetDir: string;
  config: HubConfig;
}

interface Tap {
  teardown(fn: () => unknown): void;
}

/** Builds the web assets into a fresh temp folder (esbuild: well under a second). */
export async function buildAssets(t: Tap, opts: { compress?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'web-assets-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await buildWeb({ outDir: dir, minify: false, compress: opts.compress ?? false });
  return dir;
}

/** Starts a hub serving `assetDir` (built when not given); stopped and removed in teardown. */
export async function startWebHub(
  t: Tap,
  opts: { assetDir?: string; overrides?: Partial<HubConfig>; deps?: Partial<HubServerDeps> } = {},
): Promise<WebHub> {
  const assetDir = opts.assetDir ?? (await buildAssets(t));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'web-hub-'));
  // The map's tiles come from the hub itself (never the network): a few around Berlin.
  const tileDir = path.join(dir, 'tiles');
  await writeMapTiles(tileDir, { at: { lat: 52.52, lng: 13.39 }, zooms: [12, 15], radius: 1 });
  const config = validateConfig({
    host: '127.0.0.1',
    port: 0,
    databasePath: path.join(dir, 'hub.db'),
    signingKeyPath: path.join(dir, 'hub-key.pem'),
    adminToken: WEB_ADMIN_TOKEN,
    logLevel: 'silent',
    commandSweepIntervalMs: 50,
    map: { tileDir },
    ...opts.overrides,
  });
  const server = new HubServer({
    config,
    logger: pino({ level: process.env.HUB_TEST_LOG ?? 'silent' }),
    webAssetDir: assetDir,
    ...opts.deps,
  });
  t.teardown(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const { port } = await server.start();
  return {
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/kiosk`,
    dir,
    assetDir,
    config,
  };
}
