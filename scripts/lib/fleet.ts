/**
 * The whole demo world in one call: a cloud-lite hub (in this process, SQLite under
 * `dir`), the demo content imported into the hub's content origin, a seeded catalog and
 * accounts, and N kioskd child processes on simulated hardware at nearby sites, each
 * enrolled through the hub's API. stop() undoes everything (kioskd children, socat,
 * mounts, loop devices, hub) and never rejects.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { findTool, missingToolsLine } from '../../hal/missing-tool.js';
import { Cleanup } from './cleanup.js';
import {
  type ContentPackage,
  type ContentSpec,
  demoContent,
  importDemoContent,
} from './content.js';
import { type DemoHub, type DemoHubOptions, startDemoHub } from './hub.js';
import { DemoKiosk, type SlotPlan, stopStaleKioskd } from './kiosk-process.js';
import {
  type Account,
  createAccount,
  type DiskTypeSpec,
  enrolKiosk,
  type KioskSite,
  payDeposit,
  seedCatalog,
} from './seed.js';
import {
  chooseBacking,
  createDemoDisk,
  type DemoDisk,
  type DiskBacking,
  detachStaleLoops,
} from './sim-disks.js';
import { filmsSlot, prestageCloning, type ReadyStock, waitForReadyStock } from './stock.js';

export interface FleetOptions {
  /** Working directory, emptied first (default <repo>/.demo, git-ignored). */
  dir: string;
  /** Number of kiosks (default 3). */
  kiosks?: number;
  /**
   * How the films disks in slots 1-2 become ready stock (scripts/lib/stock.ts): `prestaged`
   * (blank disks; each kioskd downloads, formats, copies and verifies them itself with its
   * pre-staging, and startFleet waits until every kiosk has them, saying so per slot), or
   * `registered` (recorded as ready in kioskd's database, the films NOT on the disks: fast,
   * for tests that only need stock the hub can sell).
   */
  readyStock: ReadyStock;
  /** Waiting for pre-staged stock (default 180 s); the timeout names the kiosks and slots short. */
  stockTimeoutMs?: number;
  /** Sites; default: nearby places around Alexanderplatz, Berlin. */
  sites?: KioskSite[];
  /**
   * Default: loop devices as root with the exFAT tools installed, directories otherwise
   * (the progress says why). 'loop' without root or the tools rejects, naming what to do.
   */
  backing?: DiskBacking;
  /** Bytes per disk (default 64 MiB: big enough for the demo content, cheap to format). */
  diskSizeBytes?: number;
  /** Progress lines ("starting hub... ok"). */
  progress?: (line: string) => void;
  hub?: Partial<Omit<DemoHubOptions, 'dir'>>;
  /** Content packages (default demoContent()). */
  content?: ContentSpec[];
  /** kioskd log level (default 'info', into each kiosk's kioskd.log). */
  kioskLogLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Extra kioskd config keys per kiosk. */
  kioskConfig?: (ctx: { hubUrl: string; kioskId: string }) => Record<string, unknown>;
  pickupWindowSeconds?: number;
  /** kioskd program and extra environment (default bin/kioskd.js; see DemoKioskOptions). */
  kioskd?: {
    entry?: string;
    env?: (ctx: { hubUrl: string; kioskId: string }) => Record<string, string>;
  };
  /** Waiting for all kiosks to connect (default 60 s). */
  connectTimeoutMs?: number;
  /**
   * How kioskd reaches each board simulator: 'pty' (socat) or 'socket' (a Unix socket).
   * Default: 'pty' when socat is installed, else 'socket' (and the progress says so).
   */
  boardLink?: 'pty' | 'socket';
  /**
   * Where the undo actions go. Pass the one a process guard runs (scripts/lib/cleanup.ts)
   * so a signal or a crash during the start undoes what was started; default a fresh one.
   * startFleet runs it when it fails; stop() runs it.
   */
  cleanup?: Cleanup;
  /** Aborting stops the start between steps (startFleet then undoes it and rejects). */
  signal?: AbortSignal;
  /**
   * How the kiosks reach the hub, asked once the hub runs (default its own ws:// URL): e.g.
   * a TLS proxy started in front of it, `wss://...` with the CA file kioskd should trust.
   */
  kioskLink?: (hub: DemoHub) => Promise<{
    wsUrl: string;
    caFile?: string;
    /** Further hub processes, tried in turn after `wsUrl` (kioskd's `hub.urls`). */
    urls?: string[];
  }>;
}

export interface FleetKiosk {
  id: string;
  site: KioskSite;
  kiosk: DemoKiosk;
  plan: SlotPlan[];
}

export interface Fleet {
  dir: string;
  hub: DemoHub;
  /** The content packages imported into the hub's content origin. */
  content: ContentPackage[];
  kiosks: FleetKiosk[];
  backing: DiskBacking;
  readyStock: ReadyStock;
  diskTypes: DiskTypeSpec[];
  operator: Account;
  renter: Account & { depositMinor: number };
  /** Kiosk by id; throws for an unknown id. */
  kiosk(id: string): FleetKiosk;
  stop(): Promise<void>;
}

export const DEMO_PASSWORDS = {
  operator: 'operator-demo-pass',
  renter: 'renter-demo-pass',
} as const;

/** `n` sites a few hundred metres apart (the first three are named). */
export function nearbySites(n: number): KioskSite[] {
  const named: KioskSite[] = [
    { name: 'Alexanderplatz', address: 'Alexanderplatz 1, Berlin', lat: 52.5219, lng: 13.4132 },
    { name: 'Hackescher Markt', address: 'Hackescher Markt 2, Berlin', lat: 52.5225, lng: 13.4022 },
    { name: 'Jannowitzbrücke', address: 'Holzmarktstraße 1, Berlin', lat: 52.5152, lng: 13.4181 },
  ];
  return Array.from(
    { length: n },
    (_, i) =>
      named[i] ?? {
        name: `Site ${i + 1}`,
        address: `Demo street ${i + 1}, Berlin`,
        lat: 52.52 + 0.003 * Math.sin(i),
        lng: 13.41 + 0.004 * Math.cos(i),
      },
  );
}

/** Films disks each kiosk keeps ready (pre-staging) or starts with (registration). */
export const FILMS_READY_PER_KIOSK = 2;

/**
 * The demo disk types: films (rent now; slots 1-2 of every kiosk hold them) and a course
 * (reservations: a kiosk prepares it on its blank disk in slot 3). Capacities fit the
 * small demo disks.
 */
export function demoDiskTypes(diskSizeBytes: number): DiskTypeSpec[] {
  const capacityBytes = Math.floor(diskSizeBytes * 0.9);
  return [
    {
      id: 'films-64m',
      capacityBytes,
      contentId: 'nature-films',
      writeProtect: 'allowed',
      pricePerDayMinor: 200,
      maxDays: 14,
    },
    {
      id: 'course-64m',
      capacityBytes,
      contentId: 'open-course',
      writeProtect: 'forced',
      pricePerDayMinor: 150,
      maxDays: 14,
    },
  ];
}

export const kioskIdOf = (i: number) => `kiosk-${i}`;

/**
 * Starts everything; on any failure undoes what was started and rejects with the cause.
 * Slot layout of kiosk i (4 slots): 1-2 films disks (pre-staged by kioskd, or registered as
 * ready: `readyStock`), 3 a blank disk (for reservations; with pre-staging also the disk
 * kioskd prepares when a films disk is rented or its slot disabled), 4 a return bay where the
 * slot-3 disk of kiosk i-1 (ring) can come back.
 */
export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const say = opts.progress ?? (() => {});
  const n = opts.kiosks ?? 3;
  const sites = opts.sites ?? nearbySites(n);
  const { backing, note: backingNote } = chooseBacking(opts.backing);
  if (backingNote) say(backingNote);
  const boardLink = opts.boardLink ?? (findTool('socat') ? 'pty' : 'socket');
  if (!opts.boardLink && boardLink === 'socket')
    say(
      `${missingToolsLine(['socat'], 'board simulator on a pty')}; the kiosks reach their board simulators over a Unix socket instead`,
    );
  const size = opts.diskSizeBytes ?? 64 * 2 ** 20;
  const cleanup =
    opts.cleanup ?? new Cleanup((what, err) => say(`cleanup: ${what} failed: ${err.message}`));
  const signal = opts.signal;
  const step = async <T>(label: string, fn: () => Promise<T>, done?: (v: T) => string) => {
    signal?.throwIfAborted();
    const v = await fn();
    say(`${label}... ${done ? done(v) : 'ok'}`);
    return v;
  };
  try {
    // Leftovers of a demo that was killed: its kioskd processes, then its loop devices.
    for (const e of await readdir(opts.dir).catch(() => [] as string[]))
      if (stopStaleKioskd(path.join(opts.dir, e))) say(`stopped a stale kioskd of ${e}`);
    await detachStaleLoops(opts.dir);
    await rm(opts.dir, { recursive: true, force: true });
    await mkdir(opts.dir, { recursive: true });
    // Runs last: whatever is still attached under the directory (belt and braces).
    cleanup.add('loop devices under the directory', () => detachStaleLoops(opts.dir));

    const hub = await step(
      'starting hub',
      () =>
        startDemoHub({
          dir: path.join(opts.dir, 'hub'),
          onBuildWeb: () => say('building web assets (first run)...'),
          ...opts.hub,
        }),
      (h) => `ok (${h.baseUrl}, SQLite ${h.config.databasePath})`,
    );
    cleanup.add('hub', () => hub.stop());
    const { api, adminToken } = hub;

    const specs = opts.content ?? demoContent();
    const diskTypes = demoDiskTypes(size);
    await step('seeding catalog', () => seedCatalog(api, adminToken, specs, diskTypes));
    const content = await step(
      'importing content into the hub',
      () => importDemoContent(hub.server, path.join(opts.dir, 'content-src'), specs),
      (c) =>
        `ok (${c.map((p) => `${p.spec.id}@${p.spec.version} ${p.files} files, ${(p.sizeBytes / 2 ** 20).toFixed(1)} MiB`).join('; ')}; signed by the hub key)`,
    );
    const operator = await step('creating operator', () =>
      createAccount(api, adminToken, {
        email: 'operator@demo.test',
        password: DEMO_PASSWORDS.operator,
        role: 'operator',
        name: 'Demo operator',
      }),
    );
    const renterAccount = await step('creating renter', () =>
      createAccount(api, adminToken, {
        email: 'renter@demo.test',
        password: DEMO_PASSWORDS.renter,
        role: 'renter',
        name: 'Demo renter',
      }),
    );
    const deposit = await step(
      'paying the renter deposit',
      () => payDeposit(api, renterAccount.token, 5000),
      (d) => `ok (${(d.heldMinor / 100).toFixed(2)} ${d.currency} held, sandbox card)`,
    );
    const renter = { ...renterAccount, depositMinor: deposit.heldMinor };

    const diskDir = path.join(opts.dir, 'disks');
    await mkdir(diskDir, { recursive: true });
    const disks = new Map<string, DemoDisk>();
    for (let i = 1; i <= n; i++) {
      for (const s of [1, 2, 3]) {
        signal?.throwIfAborted();
        const d = await createDemoDisk({
          dir: diskDir,
          name: `K${i}-S${s}`,
          sizeBytes: size,
          backing,
          cleanup,
        });
        disks.set(d.name, d);
      }
    }
    say(
      backing === 'loop'
        ? `disks: ${disks.size} loop devices of ${size / 2 ** 20} MiB (real exFAT, mount, rsync)`
        : `disks: ${disks.size} DIRECTORY-BACKED simulated disks (storage simulated)`,
    );

    const link = opts.kioskLink ? await opts.kioskLink(hub) : { wsUrl: hub.wsUrl };
    const films = content.find((p) => p.spec.id === 'nature-films') ?? content[0]!;
    const kiosks: FleetKiosk[] = [];
    // Stopped together (each SIGTERM -> clean stop takes about a second), before the disks.
    cleanup.add('kioskd processes', () => Promise.all(kiosks.map((k) => k.kiosk.stop())));
    for (let i = 1; i <= n; i++) {
      signal?.throwIfAborted();
      const id = kioskIdOf(i);
      const site = sites[i - 1]!;
      const creds = await enrolKiosk(api, adminToken, id, site);
      const prev = ((i - 2 + n) % n) + 1;
      const plan: SlotPlan[] = [
        filmsSlot(opts.readyStock, 1, disks.get(`K${i}-S1`)!, films.spec),
        filmsSlot(opts.readyStock, 2, disks.get(`K${i}-S2`)!, films.spec),
        { slot: 3, kind: 'blank', disk: disks.get(`K${i}-S3`)! },
        { slot: 4, kind: 'return-bay', disk: disks.get(`K${prev}-S3`)! },
      ];
      const extra = opts.kioskConfig?.({ hubUrl: hub.baseUrl, kioskId: id });
      const extraConfig =
        opts.readyStock === 'prestaged'
          ? {
              ...extra,
              cloning: {
                ...prestageCloning(films.spec, FILMS_READY_PER_KIOSK),
                ...(extra?.cloning as Record<string, unknown> | undefined),
              },
            }
          : extra;
      const kiosk = new DemoKiosk({
        kioskId: id,
        dir: path.join(opts.dir, id),
        hubWsUrl: link.wsUrl,
        hubCaFile: link.caFile,
        hubUrls: link.urls,
        secret: creds.secret,
        hubPublicKeyPem: creds.hubPublicKey,
        slotCount: 4,
        slots: plan,
        storage: backing === 'loop' ? 'real' : 'sim',
        logLevel: opts.kioskLogLevel ?? 'info',
        pickupWindowSeconds: opts.pickupWindowSeconds,
        extraConfig,
        entry: opts.kioskd?.entry,
        env: opts.kioskd?.env?.({ hubUrl: hub.baseUrl, kioskId: id }),
        boardLink,
      });
      kiosks.push({ id, site, kiosk, plan });
      await kiosk.start();
    }
    say(`started ${n} kioskd processes; waiting for them to connect`);
    await Promise.all(
      kiosks.map(async (k) => {
        await k.kiosk.waitConnected(api, adminToken, opts.connectTimeoutMs ?? 60_000, signal);
        say(`${k.id} connected (${k.site.name})`);
      }),
    );
    if (opts.readyStock === 'prestaged') {
      say(
        `kiosks preparing their stock: ${FILMS_READY_PER_KIOSK} ${films.spec.id} disks each (kioskd's pre-staging downloads the films from the hub, formats, copies, verifies)`,
      );
      const t0 = Date.now();
      await waitForReadyStock({
        api,
        token: adminToken,
        kiosks: kiosks.map((k) => ({
          id: k.id,
          running: () => k.kiosk.running(),
          logFile: k.kiosk.logFile,
        })),
        content: films.spec,
        count: FILMS_READY_PER_KIOSK,
        timeoutMs: opts.stockTimeoutMs ?? 180_000,
        say,
        signal,
      });
      say(
        `stock ready: ${FILMS_READY_PER_KIOSK} ${films.spec.id} disks at each of ${n} kiosks (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
    return {
      dir: opts.dir,
      hub,
      content,
      kiosks,
      backing,
      readyStock: opts.readyStock,
      diskTypes,
      operator,
      renter,
      kiosk(id) {
        const k = kiosks.find((x) => x.id === id);
        if (!k) throw new Error(`no kiosk ${id} in this fleet`);
        return k;
      },
      stop: () => cleanup.run(),
    };
  } catch (err) {
    await cleanup.run();
    throw err;
  }
}
