// Starts a real cloud-lite (HubServer with the rental domain) on an ephemeral port, with a
// test clock the domain uses, and helpers to seed a catalog, kiosks and renters.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RouteOptions } from 'fastify';
import pino from 'pino';
import { type HubConfig, validateConfig } from '../../../../cloud-lite/config.js';
import {
  type AccountMessage,
  emailAccountMailer,
} from '../../../../cloud-lite/rental/accounts/account-mail.js';
import type { PaymentProvider } from '../../../../cloud-lite/rental/payments/provider.js';
import type { SandboxProvider } from '../../../../cloud-lite/rental/payments/sandbox/sandbox-provider.js';
import { HubServer } from '../../../../cloud-lite/server.js';
import type { SlotSnapshot } from '../../../../protocol/index.js';
import { HubTestKiosk } from '../../../helpers/hub-test-kiosk.js';
import { ApiConformance } from '../../../helpers/openapi-conformance.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';
/** What a renter pays with: a payment-method id (the sandbox's test id for 4242 4242 4242 4242). */
export const CARD = { paymentMethod: 'pm_card_visa' };
export const GB = 1_000_000_000;
export const DAY_MS = 24 * 3600 * 1000;

let conformance: ApiConformance | undefined;

export interface TestClock {
  now(): Date;
  advance(ms: number): void;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
export type Res = { status: number; body: any; headers: Headers };

export interface RentalHub {
  server: HubServer;
  baseUrl: string;
  wsUrl: string;
  dir: string;
  clock: TestClock;
  sandbox: SandboxProvider;
  api(
    method: string,
    url: string,
    body?: unknown,
    token?: string | null,
    headers?: Record<string, string>,
  ): Promise<Res>;
  /** Admin-token call. */
  admin(method: string, url: string, body?: unknown): Promise<Res>;
  /** Account messages the hub sent (registration links, notes to owners), oldest first. */
  mail: AccountMessage[];
  /**
   * Registers through the API and opens the link the hub sent: the confirmation's answer
   * (201 with the session token and cookie). `headers` go with both requests.
   */
  register(email: string, password?: string, headers?: Record<string, string>): Promise<Res>;
  renter(email?: string): Promise<{ token: string; userId: string; email: string }>;
  deposit(token: string, amountMinor?: number): Promise<Res>;
  /** content `c1` (v1), disk type `t64` (64 GB, 200/day, write protect allowed). */
  seedCatalog(): Promise<void>;
  /** Content `contentId` (v1, 10 GB) and a disk type of it (64 GB, 200/day unless given). */
  addCatalogEntry(e: {
    contentId: string;
    title: string;
    typeId: string;
    pricePerDayMinor?: number;
  }): Promise<void>;
  /** Creates, enrols, places (lat/lng), connects and boots a kiosk; sends an Inventory. */
  kiosk(
    id: string,
    opts?: { lat?: number; lng?: number; slots?: SlotSnapshot[] },
  ): Promise<HubTestKiosk>;
  reconnect(id: string): Promise<HubTestKiosk>;
  waitOrder(
    token: string,
    id: string,
    pred: (o: { state: string }) => boolean,
    what?: string,
  ): Promise<Res['body']>;
  waitReservation(
    token: string,
    id: string,
    pred: (r: { state: string }) => boolean,
    what?: string,
    timeoutMs?: number,
  ): Promise<Res['body']>;
  stop(): Promise<void>;
}

interface Tap {
  teardown(fn: () => unknown): void;
}

export function readySlot(
  slot: number,
  diskId: string,
  extra: Partial<SlotSnapshot> = {},
): SlotSnapshot {
  return {
    slot,
    state: 'ready',
    diskId,
    capacityBytes: 64 * GB,
    contentId: 'c1',
    contentVersion: 'v1',
    writeProtect: false,
    ...extra,
  };
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Answers reservation `reservationId`'s PrepareDisk at `k` with PrepareCompleted (disk
 * `diskId` in `slot`, content c1 v1) and waits until the reservation is ready.
 */
export async function prepareReady(
  hub: RentalHub,
  k: HubTestKiosk,
  token: string,
  reservationId: string,
  where: { slot: number; diskId: string; holdUntil?: Date },
): Promise<Res['body']> {
  const prep = await k.waitForCommand(
    (c) => c.action === 'PrepareDisk' && c.payload.reservationId === reservationId,
  );
  await k.sendEvent('PrepareCompleted', {
    commandId: prep.payload.commandId as string,
    reservationId,
    slot: where.slot,
    diskId: where.diskId,
    contentId: 'c1',
    contentVersion: 'v1',
    holdUntil: (where.holdUntil ?? new Date(Date.now() + 3600_000)).toISOString(),
  });
  return hub.waitReservation(token, reservationId, (x) => x.state === 'ready');
}

export async function startRentalHub(
  t: Tap,
  opts: {
    dir?: string;
    config?: Partial<HubConfig>;
    rental?: Record<string, unknown>;
    clock?: TestClock;
    keepDir?: boolean;
    /** Called with every route the hub registers. */
    onRoute?: (route: RouteOptions) => void;
    /** Another payment provider than the configured sandbox (helpers/gateways.ts). */
    provider?: PaymentProvider;
    /** What `deposit()` pays with (default: the sandbox's test card details). */
    payWith?: unknown;
    /** Account messages also go out through the hub's SMTP mailer (`config.smtp`), as in production. */
    accountMailBySmtp?: boolean;
    /** The hub's logger (default: silent, or HUB_TEST_LOG's level). */
    logger?: pino.Logger;
  } = {},
): Promise<RentalHub> {
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'rental-test-')));
  let offset = 0;
  const clock: TestClock = opts.clock ?? {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
  const mail: AccountMessage[] = [];
  const config = validateConfig({
    host: '127.0.0.1',
    port: 0,
    databasePath: path.join(dir, 'hub.db'),
    signingKeyPath: path.join(dir, 'hub-key.pem'),
    adminToken: ADMIN_TOKEN,
    logLevel: 'silent',
    pingIntervalMs: 5000,
    commandSweepIntervalMs: 50,
    ...opts.config,
    rental: {
      scryptLog2N: 12,
      // Tests register many renters from 127.0.0.1; the limit has its own test.
      registerMaxPerAddress: 10_000,
      reconcileIntervalMs: 3_600_000,
      intentRetryAfterSeconds: 0,
      payments: { webhookSecret: WEBHOOK_SECRET },
      ...opts.rental,
    },
  });
  const logger = opts.logger ?? pino({ level: process.env.HUB_TEST_LOG ?? 'silent' });
  const server: HubServer = new HubServer({
    config,
    logger,
    rental: {
      now: clock.now,
      mailer: {
        send: async (m) => {
          mail.push(m);
          if (opts.accountMailBySmtp) await emailAccountMailer(server.mailer, logger).send(m);
        },
      },
      ...(opts.provider ? { provider: opts.provider } : {}),
    },
    onRoute: opts.onRoute,
  });
  const { port } = await server.start();
  const baseUrl = `http://127.0.0.1:${port}`;
  const kiosks = new Map<string, { secret: string; k: HubTestKiosk }>();
  conformance ??= new ApiConformance();
  const checker = conformance;
  const api: RentalHub['api'] = async (method, url, body, token = null, headers = {}) => {
    const h: Record<string, string> = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(baseUrl + url, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    // Every answer must be what the API document says (status, content type, body schema).
    const problem = checker.check(method, url, res.status, res.headers.get('content-type'), parsed);
    if (problem) throw new Error(`answer not as docs/openapi.json says: ${problem}`);
    return { status: res.status, body: parsed, headers: res.headers };
  };
  const hub: RentalHub = {
    server,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${port}/kiosk`,
    dir,
    clock,
    sandbox: server.rental.provider as SandboxProvider,
    api,
    admin: (method, url, body) => api(method, url, body, ADMIN_TOKEN),
    mail,
    async register(email, password = 'correct horse battery', headers = {}) {
      const r = await api('POST', '/api/auth/register', { email, password }, null, headers);
      if (r.status !== 202) return r;
      const sent = mail.findLast((m) => m.to.email === email);
      if (sent?.kind !== 'confirm-registration')
        throw new Error(`register ${email}: no confirmation link sent (${sent?.kind})`);
      const token = sent.link.slice(sent.link.indexOf('#') + 1);
      return api('POST', '/api/auth/register/confirm', { token }, null, headers);
    },
    async renter(email = `r-${randomUUID().slice(0, 8)}@example.test`) {
      const r = await hub.register(email);
      if (r.status !== 201) throw new Error(`register: ${JSON.stringify(r.body)}`);
      return { token: r.body.token, userId: r.body.user.id, email };
    },
    deposit(token, amountMinor = 5000) {
      // The renter asks to save the card, so later payments can use `{ useSaved: true }`.
      return api(
        'POST',
        '/api/me/deposit',
        { amountMinor, card: opts.payWith ?? CARD, saveCard: true },
        token,
      );
    },
    seedCatalog() {
      return hub.addCatalogEntry({ contentId: 'c1', title: 'Films', typeId: 't64' });
    },
    async addCatalogEntry(e) {
      const c = await hub.admin('POST', '/api/operator/content', {
        id: e.contentId,
        title: e.title,
        version: 'v1',
        sizeBytes: 10 * GB,
      });
      if (c.status !== 201) throw new Error(JSON.stringify(c.body));
      const d = await hub.admin('POST', '/api/operator/disk-types', {
        id: e.typeId,
        capacityBytes: 64 * GB,
        contentId: e.contentId,
        writeProtect: 'allowed',
        pricePerDayMinor: e.pricePerDayMinor ?? 200,
        maxDays: 14,
      });
      if (d.status !== 201) throw new Error(JSON.stringify(d.body));
    },
    async kiosk(id, o = {}) {
      const created = await hub.admin('POST', '/api/operator/kiosks', { id });
      if (created.status !== 201) throw new Error(JSON.stringify(created.body));
      const enrolled = await api('POST', '/api/kiosks/enrol', {
        kioskId: id,
        token: created.body.enrolmentToken,
      });
      const site = await hub.admin('POST', '/api/operator/kiosk-sites', {
        kioskId: id,
        name: `Kiosk ${id}`,
        address: `${id} street 1`,
        lat: o.lat ?? 52.52,
        lng: o.lng ?? 13.405,
      });
      if (site.status !== 200) throw new Error(JSON.stringify(site.body));
      const k = await HubTestKiosk.connect({
        url: hub.wsUrl,
        kioskId: id,
        secret: enrolled.body.secret,
      });
      kiosks.set(id, { secret: enrolled.body.secret, k });
      await k.boot();
      const slots = o.slots ?? [readySlot(1, `${id}-d1`), readySlot(2, `${id}-d2`)];
      // A kiosk with no disks still lists its slots, empty (the hub refuses an empty list).
      const empty = [1, 2, 3, 4].map((slot) => ({
        slot,
        state: 'empty' as const,
        writeProtect: false,
      }));
      await k.inventory(slots.length > 0 ? slots : empty);
      return k;
    },
    async reconnect(id) {
      const e = kiosks.get(id)!;
      const k = await HubTestKiosk.connect({ url: hub.wsUrl, kioskId: id, secret: e.secret });
      e.k = k;
      await k.boot();
      return k;
    },
    async waitOrder(token, id, pred, what = 'order state') {
      return waitFor(what, async () => {
        const r = await api('GET', `/api/orders/${id}`, undefined, token);
        return pred(r.body.order) ? r.body.order : undefined;
      });
    },
    async waitReservation(token, id, pred, what = 'reservation state', timeoutMs?: number) {
      return waitFor(
        what,
        async () => {
          const r = await api('GET', `/api/reservations/${id}`, undefined, token);
          return pred(r.body.reservation) ? r.body.reservation : undefined;
        },
        timeoutMs,
      );
    },
    async stop() {
      for (const { k } of kiosks.values()) k.ws.terminate();
      await server.stop();
    },
  };
  t.teardown(async () => {
    await hub.stop();
    if (!opts.dir && !opts.keepDir) await rm(dir, { recursive: true, force: true });
  });
  return hub;
}
