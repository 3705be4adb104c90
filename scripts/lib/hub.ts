/**
 * Runs a cloud-lite hub (HubServer: kiosk WebSocket hub, rental API, web pages) inside
 * this process on 127.0.0.1 and a free port, with its SQLite file and signing key in
 * `dir`. Logs go to `<dir>/hub.log` (JSON lines) so the terminal stays readable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { type HubConfig, validateConfig } from '../../cloud-lite/config.js';
import { MANIFEST } from '../../cloud-lite/http/routes/web-routes.js';
import { HubServer } from '../../cloud-lite/server.js';
import { buildWeb, DEFAULT_WEB_OUT } from '../build-web.js';
import { writeMapTiles } from '../make-map-tiles.js';
import { HubApi } from './api-client.js';

export interface DemoHubOptions {
  /** Holds hub.db, hub-signing-key.pem and hub.log (created if missing). */
  dir: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Default 'info' into hub.log. */
  logLevel?: string;
  /** Admin bearer token of the operator API; default a random one. */
  adminToken?: string;
  /** Extra hub configuration (e.g. `rental` timings). */
  config?: Partial<HubConfig>;
  /** Built web assets; default dist/web, built with buildWeb() when missing. */
  webAssetDir?: string;
  /** Called before a missing web build starts (it takes a few seconds). */
  onBuildWeb?: () => void;
}

export interface DemoHub {
  server: HubServer;
  config: HubConfig;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** `ws://127.0.0.1:<port>/kiosk` */
  wsUrl: string;
  adminToken: string;
  /** The hub's Ed25519 keys (PEM): kiosks verify commands and manifests with the public one. */
  publicKeyPem: string;
  privateKeyPem: string;
  /** Client of the hub's HTTP API. */
  api: HubApi;
  /** Idempotent graceful stop. */
  stop(): Promise<void>;
}

/** Builds the web assets into `dir` (default dist/web) when they are missing (fresh clone); no-op otherwise. */
export async function ensureWebAssets(dir = DEFAULT_WEB_OUT, onBuild?: () => void): Promise<void> {
  if (existsSync(path.join(dir, MANIFEST))) return;
  onBuild?.();
  await buildWeb({ outDir: dir });
}

/** Starts the hub; rejects with the hub's ConfigError/StoreVersionError or a listen error. */
export async function startDemoHub(opts: DemoHubOptions): Promise<DemoHub> {
  await mkdir(opts.dir, { recursive: true });
  const webAssetDir = opts.webAssetDir ?? DEFAULT_WEB_OUT;
  await ensureWebAssets(webAssetDir, opts.onBuildWeb);
  const adminToken = opts.adminToken ?? `demo-admin-${crypto.randomUUID()}`;
  // The renter's map shows tiles drawn here around the demo's sites (no tile server needed).
  const tileDir = path.join(opts.dir, 'tiles');
  if (!existsSync(tileDir)) await writeMapTiles(tileDir, { at: { lat: 52.52, lng: 13.41 } });
  const config = validateConfig({
    host: '127.0.0.1',
    port: opts.port ?? 0,
    databasePath: path.join(opts.dir, 'hub.db'),
    signingKeyPath: path.join(opts.dir, 'hub-signing-key.pem'),
    adminToken,
    logLevel: opts.logLevel ?? 'info',
    commandSweepIntervalMs: 250,
    map: { tileDir, attribution: 'Demo tiles, drawn locally' },
    ...opts.config,
  });
  const logger = pino(
    { level: config.logLevel, base: { app: 'cloud-lite' } },
    pino.destination({ dest: path.join(opts.dir, 'hub.log'), sync: false, mkdir: true }),
  );
  const server = new HubServer({ config, logger, webAssetDir });
  const { port } = await server.start();
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    server,
    config,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/kiosk`,
    adminToken,
    publicKeyPem: server.signingKey.publicKeyPem,
    privateKeyPem: readFileSync(config.signingKeyPath, 'utf8'),
    api: new HubApi(baseUrl),
    stop: async () => {
      await server.stop();
      logger.flush();
    },
  };
}
