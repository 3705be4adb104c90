// Starts a real cloud-lite server on an ephemeral port in a temp dir for tests.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { type HubConfig, validateConfig } from '../../cloud-lite/config.js';
import { HubServer } from '../../cloud-lite/server.js';
import { HubTestKiosk, type HubTestKioskOptions } from '../helpers/hub-test-kiosk.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestHub {
  server: HubServer;
  port: number;
  baseUrl: string;
  wsUrl: string;
  dir: string;
  config: HubConfig;
  /** Calls the HTTP API; `token` defaults to the admin token (null: none). */
  api(
    method: string,
    url: string,
    body?: unknown,
    token?: string | null,
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
  ): Promise<{ status: number; body: any }>;
  /** Creates and enrols a kiosk through the API; returns its id and secret. */
  enrolKiosk(id: string): Promise<{ kioskId: string; secret: string }>;
  connectKiosk(
    creds: { kioskId: string; secret: string },
    opts?: Partial<HubTestKioskOptions>,
  ): Promise<HubTestKiosk>;
  stop(): Promise<void>;
}

interface Tap {
  teardown(fn: () => unknown): void;
}

export async function startTestHub(
  t: Tap,
  overrides: Partial<HubConfig> = {},
  opts: { dir?: string } = {},
): Promise<TestHub> {
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'cloud-lite-test-')));
  const config = validateConfig({
    host: '127.0.0.1',
    port: 0,
    databasePath: path.join(dir, 'hub.db'),
    signingKeyPath: path.join(dir, 'hub-key.pem'),
    adminToken: ADMIN_TOKEN,
    logLevel: 'silent',
    pingIntervalMs: 5000,
    commandSweepIntervalMs: 50,
    ...overrides,
  });
  const logger = pino({ level: process.env.HUB_TEST_LOG ?? 'silent' });
  const server = new HubServer({ config, logger });
  const { port } = await server.start();
  const baseUrl = `http://127.0.0.1:${port}`;
  const kiosks: HubTestKiosk[] = [];
  const hub: TestHub = {
    server,
    port,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/kiosk`,
    dir,
    config,
    async api(method, url, body, token = ADMIN_TOKEN) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(baseUrl + url, {
        method,
        headers,
        body:
          body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: res.status, body: parsed };
    },
    async enrolKiosk(id) {
      const created = await hub.api('POST', '/api/operator/kiosks', { id });
      if (created.status !== 201) throw new Error(`create ${id}: ${JSON.stringify(created)}`);
      const enrolled = await hub.api(
        'POST',
        '/api/kiosks/enrol',
        { kioskId: id, token: created.body.enrolmentToken },
        null,
      );
      if (enrolled.status !== 200) throw new Error(`enrol ${id}: ${JSON.stringify(enrolled)}`);
      return { kioskId: id, secret: enrolled.body.secret };
    },
    async connectKiosk(creds, o = {}) {
      const k = await HubTestKiosk.connect({ url: hub.wsUrl, ...creds, ...o });
      kiosks.push(k);
      return k;
    },
    async stop() {
      await server.stop();
    },
  };
  t.teardown(async () => {
    for (const k of kiosks) k.ws.terminate();
    await server.stop();
    if (!opts.dir) await rm(dir, { recursive: true, force: true });
  });
  return hub;
}

/** Polls `cond` until true or `timeoutMs` passes (then throws naming `what`). */
export async function waitUntil(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
