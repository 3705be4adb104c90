/**
 * The simulated fleet: cloud-lite as a child process (restartable on the same database and
 * port), a content origin, the catalog, M renter accounts with deposits, and N kioskd
 * children on pty board simulators, each reaching the hub through its own TcpProxy (the
 * simulation cuts and stalls that link). Built from scripts/lib (seeding, DemoKiosk, disks).
 *
 * Slot layout of kiosk i (5 slots): 1-3 blank disks, of which kioskd's pre-staging keeps
 * two ready with the films (real clone, identity file), the rest prepared on reservation
 * (with `prestage: false`: 1-2 registered as ready films without a copy, scripts/lib/stock.ts); 4 a return bay wired to the slot-3 disk of the
 * previous kiosk and (pre-staging) 5 one wired to its slot-1 disk (ring; none with one kiosk). A slot's USB port only ever shows
 * the disk wired to it, so the disk physically in a slot is always known.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { KioskConfigSchema } from '../../kiosk/config/schema.js';
import { Cleanup } from '../lib/cleanup.js';
import { type ContentSpec, demoContent, writeContentTree } from '../lib/content.js';
import { demoDiskTypes, kioskIdOf, nearbySites } from '../lib/fleet.js';
import { DemoKiosk, type DemoKioskOptions, type SlotPlan } from '../lib/kiosk-process.js';
import {
  type Account,
  createAccount,
  type DiskTypeSpec,
  enrolKiosk,
  payDeposit,
  seedCatalog,
} from '../lib/seed.js';
import {
  createDemoDisk,
  type DemoDisk,
  type DiskBacking,
  detachStaleLoops,
} from '../lib/sim-disks.js';
import { filmsSlot, prestageCloning, type ReadyStock } from '../lib/stock.js';
import { waitFor } from '../lib/wait.js';
import { type HubDb, postgresHubDb, sqliteHubDb } from './hub-db.js';
import { HubProcess } from './hub-process.js';
import { TcpProxy } from './tcp-proxy.js';

export interface SimTimings {
  holdWindowSeconds: number;
  pickupWindowSeconds: number;
  /** How long the hub keeps a jammed order's payment for a disk pulled out late. */
  jamHoldSeconds: number;
  noShowFeeMinor: number;
}

export interface WorldOptions {
  dir: string;
  kiosks: number;
  renters: number;
  backing: DiskBacking;
  timings: SimTimings;
  /** Films disks prepared by kioskd's pre-staging (default true). */
  prestage?: boolean;
  progress?: (line: string) => void;
  /** Where the undo actions go (a process guard's, see scripts/lib/cleanup.ts); default a fresh one. */
  cleanup?: Cleanup;
  /** More `rental` settings of the hub (e.g. its stock policy). */
  rental?: Record<string, unknown>;
  /** The hub's `alerts` settings (default the hub's). */
  alerts?: Record<string, unknown>;
  /**
   * Each kiosk's pickup-code keypad, given its directory and id (default none): the simulator
   * on a Unix socket, or the real driver on a FIFO (docs/pickup-codes.md).
   */
  keypad?: (kioskDir: string, kioskId: string) => DemoKioskOptions['keypad'];
  /** More environment of every kioskd child (crash tests' KIOSKD_TEST_HOOKS and the like). */
  kioskEnv?: Record<string, string>;
  /** The hub's store: its own SQLite file (default), or a PostgreSQL database (an empty one). */
  store?: { kind: 'sqlite' } | { kind: 'postgres'; url: string };
  /**
   * Hub processes on the one store (default 1; more than 1 needs PostgreSQL). Kiosk i dials
   * process (i-1) mod N through its proxy and knows every other process's URL (`hub.urls`).
   */
  hubs?: number;
}

export interface SimKiosk {
  id: string;
  kiosk: DemoKiosk;
  proxy: TcpProxy;
  plan: SlotPlan[];
  dbPath: string;
  /** Disk name wired to each slot (undefined: nothing can ever be in that slot). */
  diskAt: Map<number, string>;
}

export interface World {
  dir: string;
  /** The first hub process (seeding, the operator's API). */
  hub: HubProcess;
  /** Every hub process (one unless `hubs` said more); `hubs[0]` is `hub`. */
  hubs: HubProcess[];
  /** Read access to the hub's database (SQLite file or the shared PostgreSQL). */
  db: HubDb;
  adminToken: string;
  content: ContentSpec[];
  kiosks: SimKiosk[];
  renters: Account[];
  diskTypes: DiskTypeSpec[];
  /** Every disk name in the fleet. */
  diskNames: string[];
  /** Where disk `name` can be pushed back in: every (kiosk, slot) wired to it. */
  homesOf(name: string): Array<{ kiosk: SimKiosk; slot: number }>;
  stop(): Promise<void>;
}

export const RENTER_PASSWORD = 'renter-sim-password';

/** Slots kioskd records as ready (read-only). */
function readySlots(file: string): number {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (
      db.prepare("SELECT count(*) AS n FROM slots WHERE state = 'ready'").get() as { n: number }
    ).n;
  } finally {
    db.close();
  }
}

export async function startWorld(opts: WorldOptions): Promise<World> {
  const say = opts.progress ?? (() => {});
  const cleanup =
    opts.cleanup ?? new Cleanup((what, err) => say(`cleanup: ${what} failed: ${err.message}`));
  try {
    await detachStaleLoops(opts.dir);
    await rm(opts.dir, { recursive: true, force: true });
    await mkdir(opts.dir, { recursive: true });
    const adminToken = `sim-admin-${randomUUID()}`;
    const t = opts.timings;
    const store = opts.store ?? { kind: 'sqlite' };
    const hubCount = Math.max(1, opts.hubs ?? 1);
    if (hubCount > 1 && store.kind !== 'postgres')
      throw new Error('several hub processes need the PostgreSQL store (--store postgres)');
    const hubConfig = (): Record<string, unknown> => ({
      commandSweepIntervalMs: 250,
      heartbeatIntervalSeconds: 5,
      pingIntervalMs: 2000,
      commandCallTimeoutMs: 5000,
      ...(opts.alerts ? { alerts: opts.alerts } : {}),
      ...(store.kind === 'postgres'
        ? {
            store: { kind: 'postgres', url: store.url, poolSize: 5 },
            // One signing key and one content origin for every process.
            signingKeyPath: path.join(opts.dir, 'hub', 'hub-signing-key.pem'),
            content: { dir: path.join(opts.dir, 'hub', 'content') },
          }
        : {}),
      rental: {
        prepareDeadlineSeconds: 120,
        holdWindowSeconds: t.holdWindowSeconds,
        pickupWindowSeconds: t.pickupWindowSeconds,
        jamHoldSeconds: t.jamHoldSeconds,
        noShowFeeMinor: t.noShowFeeMinor,
        dispenseCommandTtlSeconds: 60,
        dispenseOutcomeDeadlineSeconds: 60,
        intentRetryAfterSeconds: 2,
        reconcileIntervalMs: 1000,
        scryptLog2N: 10,
        loginMaxFailuresPerIp: 1000,
        payments: { webhookSecret: 'fleet-sim-webhook-secret' },
        ...opts.rental,
      },
    });
    const hubs: HubProcess[] = [];
    cleanup.add('hubs', () => Promise.all(hubs.map((h) => h.stop())));
    for (let i = 1; i <= hubCount; i++) {
      const dir = path.join(opts.dir, i === 1 ? 'hub' : `hub-${i}`);
      const h = new HubProcess({ dir, adminToken, config: hubConfig() });
      hubs.push(h);
      // The first one migrates the store; the others start on it (tsx compiles the sources
      // first: slow on a busy machine).
      await h.start(120_000);
      say(
        `hub ${i}: child process on ${h.baseUrl} (${store.kind === 'postgres' ? 'PostgreSQL' : `SQLite ${h.databasePath}`})`,
      );
    }
    const hub = hubs[0]!;
    const db = store.kind === 'postgres' ? postgresHubDb(store.url) : sqliteHubDb(hub.databasePath);
    cleanup.add('hub database reader', () => db.close());
    const api = hub.api;

    const size = 64 * 2 ** 20;
    const diskTypes = demoDiskTypes(size);
    const content = demoContent();
    await seedCatalog(api, adminToken, content, diskTypes);
    for (const c of content) {
      // The real interface: `cloud-lite content import` on the hub's config and database.
      const src = await writeContentTree(path.join(opts.dir, 'content-src'), c);
      await promisify(execFile)(
        process.execPath,
        [
          hub.entry,
          'content',
          'import',
          src,
          '--id',
          c.id,
          '--version',
          c.version,
          '--title',
          c.title,
          '-c',
          hub.configFile,
        ],
        { cwd: path.dirname(path.dirname(hub.entry)) },
      );
    }
    const renters: Account[] = [];
    for (let i = 1; i <= opts.renters; i++) {
      const a = await createAccount(api, adminToken, {
        email: `renter-${i}@sim.test`,
        password: RENTER_PASSWORD,
        role: 'renter',
      });
      await payDeposit(api, a.token, 5000);
      renters.push(a);
    }
    say(
      `seeded: ${content.length} packages, ${diskTypes.length} disk types, ${renters.length} renters with deposits`,
    );

    const n = opts.kiosks;
    const diskDir = path.join(opts.dir, 'disks');
    await mkdir(diskDir, { recursive: true });
    const disks = new Map<string, DemoDisk>();
    for (let i = 1; i <= n; i++) {
      for (const s of [1, 2, 3]) {
        const d = await createDemoDisk({
          dir: diskDir,
          name: `K${i}-S${s}`,
          sizeBytes: size,
          backing: opts.backing,
          cleanup,
        });
        disks.set(d.name, d);
      }
    }
    const films = content.find((c) => c.id === 'nature-films') ?? content[0]!;
    const kiosks: SimKiosk[] = [];
    cleanup.add('kioskd processes', () => Promise.all(kiosks.map((k) => k.kiosk.stop())));
    cleanup.add('proxies', () => Promise.all(kiosks.map((k) => k.proxy.stop())));
    const sites = nearbySites(n);
    const props = KioskConfigSchema.properties as Record<string, unknown>;
    for (let i = 1; i <= n; i++) {
      const id = kioskIdOf(i);
      const creds = await enrolKiosk(api, adminToken, id, sites[i - 1]!);
      const prev = ((i - 2 + n) % n) + 1;
      const stock: ReadyStock = (opts.prestage ?? true) ? 'prestaged' : 'registered';
      const prestage = stock === 'prestaged';
      const disk = (slot: number) => disks.get(`K${i}-S${slot}`)!;
      const plan: SlotPlan[] = [
        filmsSlot(stock, 1, disk(1), films),
        filmsSlot(stock, 2, disk(2), films),
        { slot: 3, kind: 'blank', disk: disk(3) },
      ];
      if (n > 1) {
        plan.push({ slot: 4, kind: 'return-bay', disk: disks.get(`K${prev}-S3`)! });
        if (prestage) plan.push({ slot: 5, kind: 'return-bay', disk: disks.get(`K${prev}-S1`)! });
      }
      const home = (i - 1) % hubs.length;
      const proxy = new TcpProxy({ targetHost: '127.0.0.1', targetPort: hubs[home]!.port });
      await proxy.start();
      const kdir = path.join(opts.dir, id);
      const extraConfig: Record<string, unknown> = {};
      if ('reservations' in props) extraConfig.reservations = { expiryCheckSeconds: 1 };
      if ('cloning' in props)
        extraConfig.cloning = {
          progressIntervalMs: 500,
          ...(prestage ? prestageCloning(films, 2) : {}),
        };
      const kiosk = new DemoKiosk({
        kioskId: id,
        dir: kdir,
        hubWsUrl: `ws://127.0.0.1:${proxy.port}/kiosk`,
        ...(hubs.length > 1
          ? {
              hubUrls: hubs
                .filter((_, j) => j !== home)
                .map((h) => `ws://127.0.0.1:${h.port}/kiosk`),
            }
          : {}),
        secret: creds.secret,
        hubPublicKeyPem: creds.hubPublicKey,
        slotCount: 5,
        slots: plan,
        storage: opts.backing === 'loop' ? 'real' : 'sim',
        logLevel: 'info',
        pickupWindowSeconds: t.pickupWindowSeconds,
        extraConfig,
        env: { KIOSKD_TEST_HOOKS: '0', ...opts.kioskEnv },
        ...(opts.keypad ? { keypad: opts.keypad(kdir, id) } : {}),
      });
      const diskAt = new Map(plan.map((p) => [p.slot, p.disk.name]));
      kiosks.push({
        id,
        kiosk,
        proxy,
        plan,
        dbPath: path.join(kdir, 'data', 'kioskd.sqlite'),
        diskAt,
      });
      await kiosk.start();
    }
    await Promise.all(kiosks.map((k) => k.kiosk.waitConnected(api, adminToken, 60_000)));
    say(`${n} kioskd processes connected through their proxies (${opts.backing} disks)`);
    if (opts.prestage ?? true) {
      await waitFor(
        'every kiosk to pre-stage two films disks',
        () => kiosks.every((k) => readySlots(k.dbPath) >= 2),
        { timeoutMs: 120_000, intervalMs: 250 },
      );
      say('pre-staging done: two films disks ready per kiosk (cloned and verified by kioskd)');
    }
    return {
      dir: opts.dir,
      hub,
      hubs,
      db,
      adminToken,
      content,
      kiosks,
      renters,
      diskTypes,
      diskNames: [...disks.keys()],
      homesOf: (name) =>
        kiosks.flatMap((k) =>
          [...k.diskAt].filter(([, d]) => d === name).map(([slot]) => ({ kiosk: k, slot })),
        ),
      stop: () => cleanup.run(),
    };
  } catch (err) {
    await cleanup.run();
    throw err;
  }
}
