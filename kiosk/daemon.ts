/**
 * The composition root of kioskd: builds everything from the validated configuration
 * (database, hal devices, slot store, inbox/outbox, command handlers, returns, hub link),
 * starts it in order, reconciles, tells systemd it is ready, and stops it all cleanly.
 */

import path from 'node:path';
import { type BootRequest, FEATURE_NAMES } from '../protocol/index.js';
import { forwardCabinetEvents } from './cabinet-events.js';
import { type LoadedRemoteConfig, loadRemoteConfig, RemoteConfig } from './config/remote-config.js';
import {
  databasePath,
  type HubCredentials,
  type KioskConfig,
  resolveHubCredentials,
} from './config.js';
import { headersUnder, originBlobUrl } from './content/download.js';
import { ensureIdentity, type KioskDb } from './db/open-db.js';
import { RemoteDiagnostics } from './diag/remote-diagnostics.js';
import type { CommandDeps } from './handlers/context.js';
import type { DaemonControl } from './handlers/control.js';
import { type CommandExtensions, createDispatcher } from './handlers/dispatcher.js';
import { DispenseService } from './handlers/dispense.js';
import { HoldExpiry } from './handlers/hold-expiry.js';
import { originAccess, PreparationServices } from './handlers/preparation.js';
import { hooksFromEnv, type TestHooks } from './handlers/test-hooks.js';
import { createHardware, type Devices, type Hardware } from './hardware.js';
import type { CommandDispatcher } from './link/command-gate.js';
import { HubLink, type HubLinkConfig } from './link/hub-link.js';
import { fetchTrusting } from './link/hub-tls.js';
import { hubLinkConfig } from './link/link-config.js';
import { createDaemonLogger, type KioskLogger, setLogLevel } from './log.js';
import type { MaintenanceDeps } from './maintenance/deps.js';
import { maintenanceCloning, maintenanceContent } from './maintenance/preparation-adapters.js';
import { MaintenanceServer } from './maintenance/server.js';
import { KioskMetrics } from './metrics/kiosk-metrics.js';
import { createPickupServices, type PickupServices } from './pickup/index.js';
import { type ReconcileReport, reconcile } from './reconcile/reconcile.js';
import { type ReturnExtensions, ReturnWatcher } from './returns/return-watcher.js';
import { DiskWatch } from './slots/disk-watch.js';
import { inventorySnapshot } from './slots/inventory.js';
import { SlotStore } from './slots/slot-store.js';
import { HubClock } from './state/clock.js';
import { Inbox } from './state/inbox.js';
import { NonceStore } from './state/nonces.js';
import { Outbox } from './state/outbox.js';
import { SystemdNotifier } from './systemd.js';
import { openDbAcrossRollback, SNAPSHOT_NAME } from './update/db-rollback.js';
import { RaucClient, type RaucRunner } from './update/rauc-client.js';
import { UpdateLock } from './update/update-lock.js';
import { UpdateError, UpdateService } from './update/update-service.js';
import { imageVersion, packageVersion } from './version.js';

/** First retry of a slot board that did not answer at start; the delay doubles up to the max. */
export const BOARD_RETRY_MS = 1000;
export const BOARD_RETRY_MAX_MS = 30_000;

/** Exit code after a hub `Reset Hard`: non-zero, so systemd (Restart=on-failure) restarts kioskd. */
export const EXIT_HARD_RESET = 75;

export interface DaemonDeps {
  config: KioskConfig;
  /** Directory that relative credential files are resolved against (the config file's). */
  configDir?: string;
  log?: KioskLogger;
  /** Devices to use instead of creating them from the config (tests, demo). */
  devices?: Partial<Devices>;
  /**
   * Replaces the built-in content/cloning handlers and hooks (tests; `{}` = a build without
   * them: PrepareDisk/WipeDisk Rejected, returned disks straight to `loaded`).
   */
  extensions?: CommandExtensions & ReturnExtensions;
  /** Environment (NOTIFY_SOCKET, WATCHDOG_USEC, KIOSKD_TEST_*); default process.env. */
  env?: Record<string, string | undefined>;
  /** Overrides of the hub link's settings (tests: short timeouts). */
  hubLink?: Partial<HubLinkConfig>;
  /** Returns: how long a disk may take to enumerate on USB (ms). */
  returnDriveWaitMs?: number;
  /** Maintenance socket (kioskctl): socket path override, cloning/content services. */
  maintenance?: Partial<
    Pick<MaintenanceDeps, 'socketPath' | 'socketGroup' | 'cloning' | 'content' | 'imageVersionFile'>
  >;
  /** Runs the rauc client (tests: a fake RAUC); default spawns `update.raucCommand`. */
  rauc?: RaucRunner;
}

/** The SD image's version for Boot (absent off the image, or when unusable as a Version). */
function bootImageVersion(file?: string): { imageVersion?: string } {
  const v = imageVersion(file);
  return v && v.length <= 64 ? { imageVersion: v } : {};
}

/** Marker in `counters`: 1 while running, 2 after a hard reset, 0 after a clean stop. */
const RUN_MARKER = 'kioskd_running';

/**
 * One kioskd. `start()` opens the database, creates and starts the hardware (write
 * protection ON everywhere), reconciles slots and unfinished commands with the sensors,
 * starts the returns watcher and the hub link, then notifies systemd. `stop()` stops in
 * reverse order: link, running dispenses (abandoned, reconciled at the next start),
 * returns, disks unmounted, relays to the safe state, board, database closed.
 * `exitRequested` resolves with an exit code when the hub asked for a hard reset.
 */
export class Daemon {
  db!: KioskDb;
  clock!: HubClock;
  outbox!: Outbox;
  inbox!: Inbox;
  slots!: SlotStore;
  nonces!: NonceStore;
  hardware!: Hardware;
  link!: HubLink;
  dispense!: DispenseService;
  returns!: ReturnWatcher;
  dispatch!: CommandDispatcher;
  /** Content cache, cloning, PrepareDisk, returned-disk checks, WipeDisk, pre-staging. */
  preparation!: PreparationServices;
  holds!: HoldExpiry;
  /** Pickup codes typed on the keypad (undefined without `hardware.keypad`). */
  pickup: PickupServices | undefined;
  /** DiskRemoved for a disk leaving a slot outside a dispense. */
  diskWatch!: DiskWatch;
  /** Held by dispenses, preparations, wipes and technician jobs; taken by an update. */
  readonly updateLock = new UpdateLock();
  /** Software updates with RAUC (InstallUpdate, kioskctl update). */
  updates!: UpdateService;
  private markSynced!: () => void;
  /** Resolves once the hub has accepted a Boot on this run. */
  private readonly synced = new Promise<void>((resolve) => {
    this.markSynced = resolve;
  });
  maintenance: MaintenanceServer | undefined;
  /** The maintenance methods, callable in-process even when the socket did not start. */
  private localMethods: MaintenanceServer | undefined;
  /** UploadDiagnostics: bundles and log excerpts uploaded to the hub. */
  diagnostics!: RemoteDiagnostics;
  /** kioskd's Prometheus metrics (served when `metrics.port` is set). */
  metrics: KioskMetrics | undefined;
  readonly log: KioskLogger;
  readonly hooks: TestHooks;
  private commandDeps!: CommandDeps;
  private readonly notifier: SystemdNotifier;
  private started = false;
  private stopping: Promise<void> | null = null;
  private boardRetry: NodeJS.Timeout | undefined;
  private markStarted!: () => void;
  /** Resolves once start() has finished (never, when it failed). */
  private readonly startedP = new Promise<void>((resolve) => {
    this.markStarted = resolve;
  });
  private resolveExit!: (code: number) => void;
  /** Resolves with the exit code kioskd should end with after a hard reset. */
  readonly exitRequested: Promise<number>;
  private bootReason: BootRequest['bootReason'] = 'PowerOn';

  private readonly deps: DaemonDeps;
  /** The hub's remote configuration as loaded at start (merged into `deps.config`). */
  private readonly remoteLoaded: LoadedRemoteConfig;
  /** The configuration as given (file and environment), before the hub's settings. */
  private readonly baseConfig: KioskConfig;
  /** ApplyConfig and the configuration state reported in Boot and Heartbeat. */
  remoteConfig!: RemoteConfig;

  constructor(deps: DaemonDeps) {
    // The hub's settings (<dataDir>/remote-config.json) over the configuration file's.
    this.baseConfig = deps.config;
    this.remoteLoaded = loadRemoteConfig(deps.config);
    this.deps = { ...deps, config: this.remoteLoaded.config };
    const env = deps.env ?? process.env;
    this.log =
      deps.log ??
      createDaemonLogger({
        kioskId: deps.config.kioskId,
        level: this.deps.config.logLevel,
        dataDir: deps.config.dataDir,
        env,
      });
    this.hooks = hooksFromEnv(env);
    this.notifier = new SystemdNotifier({ env, log: this.log });
    this.exitRequested = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  async start(): Promise<ReconcileReport> {
    const { config } = this.deps;
    const creds = resolveHubCredentials(config, this.deps.configDir);
    const db = openDbAcrossRollback(
      databasePath(config),
      path.join(this.updatesDir, SNAPSHOT_NAME),
      this.log,
    );
    this.db = db;
    try {
      return await this.startWith(creds);
    } catch (err) {
      await this.teardown().catch(() => {});
      throw err;
    }
  }

  private async startWith(creds: HubCredentials) {
    const { config } = this.deps;
    const { db, log } = this;
    const databaseId = ensureIdentity(db, config.kioskId);
    this.bootReason = this.readRunMarker();
    this.clock = new HubClock({ db });
    const clock = this.clock;
    this.outbox = new Outbox({ db, clock });
    this.inbox = new Inbox({ db, clock });
    this.nonces = new NonceStore({ db, clock });
    this.slots = new SlotStore({ db, outbox: this.outbox, clock, log });
    this.slots.ensureSlots(config.slots.count);
    const retired = this.slots.retireAbove(config.slots.count); // ESLOTCOUNT: kioskd stops
    if (retired.length > 0) log.info({ slots: retired }, 'empty slots above slots.count removed');

    this.hardware = await createHardware(config, this.deps.devices);
    const hw = this.hardware;
    await hw.gpio.start(); // every relay to write-protect ON first
    await forwardCabinetEvents({ gpio: hw.gpio, outbox: this.outbox, log });
    await this.startBoard();
    await hw.usb.start();
    hw.drives.on('watching', (mode, reason) =>
      (reason ? log.warn : log.info).call(log, { mode, reason }, 'watching the slot disks'),
    );
    hw.drives.on('scanError', (err) => log.warn({ err: err.message }, 'drive scan failed'));
    await hw.drives.start();
    await hw.storage.start();
    hw.board.on('disconnected', (err) => log.error({ err: err.message }, 'slot board link lost'));
    hw.board.on('connected', (id) => log.info({ board: id }, 'slot board connected'));
    hw.board.on('reset', (cause) => log.warn({ cause }, 'slot board rebooted'));
    await this.powerSlotPorts();

    this.commandDeps = {
      kioskId: config.kioskId,
      db,
      slots: this.slots,
      inbox: this.inbox,
      outbox: this.outbox,
      nonces: this.nonces,
      clock,
      hardware: hw,
      hubPublicKeyPem: creds.publicKeyPem,
      log,
      hooks: this.hooks,
      updateLock: this.updateLock,
    };
    this.dispense = new DispenseService(this.commandDeps);
    this.metrics = new KioskMetrics({
      slotStates: () => this.slots.list().map((s) => s.state),
      cache: () =>
        this.preparation?.cache
          ? { usedBytes: this.preparation.cache.usedBytes(), maxBytes: config.content.maxBytes }
          : undefined,
      link: () => this.link?.status,
      log: log.child({ component: 'metrics' }),
      host: config.metrics.host,
      port: config.metrics.port ?? 0,
    });
    this.preparation = new PreparationServices({
      onCloneFinished: (f) => this.metrics?.cloneFinished(f),
      config,
      db,
      slots: this.slots,
      outbox: this.outbox,
      clock,
      hardware: hw,
      log,
      credentials: creds,
      updateLock: this.updateLock,
    });
    await this.preparation.start(); // recovers interrupted prepares before reconcile
    const extensions = this.deps.extensions ?? this.preparation.extensions();
    this.returns = new ReturnWatcher({
      db,
      slots: this.slots,
      clock,
      hardware: hw,
      log: log.child({ component: 'returns' }),
      extensions,
      driveWaitMs: this.deps.returnDriveWaitMs,
    });
    const report = await reconcile(this.commandDeps, this.returns);
    this.returns.start();
    this.diskWatch = new DiskWatch({ db, slots: this.slots, clock, hardware: hw, log });
    this.diskWatch.start();
    this.holds = new HoldExpiry({
      db,
      slots: this.slots,
      clock,
      log: log.child({ component: 'holds' }),
      intervalMs: config.reservations.expiryCheckSeconds * 1000,
    });
    this.holds.start();
    this.updates = this.createUpdates(config, creds);
    // An update left before its reboot resumes; one the reboot decided is settled (a trial
    // boot holds the update lock until it commits).
    const updateBoot = await this.updates.start();
    if (updateBoot) this.bootReason = 'SoftwareUpdate';

    const control: DaemonControl = {
      trigger: (m) => this.link.trigger(m),
      softReset: () => this.softReset(),
      hardReset: () => {
        this.markRun(2);
        this.resolveExit(EXIT_HARD_RESET);
      },
    };
    this.pickup = hw.keypad
      ? createPickupServices({
          deps: this.commandDeps,
          keypad: hw.keypad,
          dispense: this.dispense,
          log: log.child({ component: 'pickup' }),
        })
      : undefined;
    this.diagnostics = new RemoteDiagnostics({
      commandDeps: this.commandDeps,
      config,
      secret: creds.secret,
      db,
      call: (m) =>
        this.localMethods
          ? this.localMethods.callLocal(m)
          : Promise.reject(new Error('kioskd is still starting')),
      ...(creds.caPem ? { fetch: fetchTrusting(creds.caPem) } : {}),
    });
    if (this.remoteLoaded.problem) log.warn(this.remoteLoaded.problem);
    this.remoteConfig = new RemoteConfig({
      base: this.baseConfig,
      loaded: this.remoteLoaded,
      commandDeps: this.commandDeps,
      setLogLevel: (level) => setLogLevel(log, level),
      log: log.child({ component: 'remote-config' }),
    });
    this.dispatch = createDispatcher(this.commandDeps, {
      uploadDiagnostics: this.diagnostics.handle,
      applyConfig: this.remoteConfig.handle,
      dispense: this.dispense,
      control,
      extensions,
      installUpdate: (p) => this.updates.handle(p),
      ...(this.pickup ? { armPickupCode: this.pickup.arm } : {}),
    });
    this.link = new HubLink({
      config: { ...hubLinkConfig(config, creds), ...this.deps.hubLink },
      outbox: this.outbox,
      inbox: this.inbox,
      clock,
      log,
      dispatch: this.dispatch,
      boot: () => ({
        softwareVersion: packageVersion(),
        ...bootImageVersion(this.imageVersionFile),
        slotCount: config.slots.count,
        bootReason: this.bootReason,
        databaseId,
        config: this.remoteConfig.state(),
        // kioskd takes every hub -> kiosk command and field this protocol names (a command it
        // cannot carry out here, e.g. ArmPickupCode without a keypad, it answers Rejected).
        features: [...FEATURE_NAMES],
      }),
      heartbeat: () => ({
        config: this.remoteConfig.state(),
        ...(this.preparation?.cache
          ? {
              cache: {
                usedBytes: this.preparation.cache.usedBytes(),
                maxBytes: config.content.maxBytes,
              },
            }
          : {}),
      }),
      inventory: () => inventorySnapshot(db, clock),
    });
    this.link.once('synced', () => {
      this.bootReason = 'Unknown'; // later reconnects are not boots
      this.markSynced();
    });
    this.link.start();
    await this.pickup?.start(); // the keypad works with or without the hub
    await this.preparation.startBackground();
    await this.startMaintenance();
    if (config.metrics.port !== undefined) {
      // Metrics are an aid: a port taken must not stop the kiosk from renting.
      await this.metrics.start().catch((err: Error) => {
        log.error({ err: err.message, port: config.metrics.port }, 'metrics server did not start');
      });
    }
    this.markRun(1);
    this.started = true;
    this.markStarted();
    await this.notifier.ready(`kiosk ${config.kioskId}: ${config.slots.count} slots`);
    log.info({ bootReason: this.bootReason, reconcile: report }, 'kioskd started');
    return report;
  }

  /** The SD image's version stamp (tests may point elsewhere). */
  private get imageVersionFile(): string {
    return this.deps.maintenance?.imageVersionFile ?? this.deps.config.update.imageVersionFile;
  }

  private get updatesDir(): string {
    return this.deps.config.update.dir ?? path.join(this.deps.config.dataDir, 'updates');
  }

  private createUpdates(config: KioskConfig, creds: HubCredentials): UpdateService {
    const u = config.update;
    const access = originAccess(config, creds);
    const { board, drives } = this.hardware;
    return new UpdateService({
      db: this.db,
      outbox: this.outbox,
      clock: this.clock,
      log: this.log.child({ component: 'update' }),
      lock: this.updateLock,
      rauc: new RaucClient({
        command: u.raucCommand,
        env: this.deps.env ?? process.env,
        ...(u.raucConf ? { confFile: u.raucConf } : {}),
        ...(this.deps.rauc ? { runner: this.deps.rauc } : {}),
      }),
      options: {
        dir: this.updatesDir,
        rebootRequestFile: u.rebootRequestFile,
        reserveBytes: u.reserveBytes,
        rebootTimeoutMs: u.rebootTimeoutSeconds * 1000,
        trialHubTimeoutMs: u.trialHubTimeoutSeconds * 1000,
        progressIntervalMs: u.progressIntervalMs,
      },
      imageVersion: () => imageVersion(this.imageVersionFile),
      bundleUrlFor: (url, sha256) => originBlobUrl(access.origin, url, sha256),
      headersFor: (url) => headersUnder(access.origin, access.headers, url),
      ...(access.fetch ? { fetch: access.fetch } : {}),
      boardAnswers: async () => {
        if (!board.connected) return false;
        await board.status();
        return true;
      },
      // Once kioskd has fully started (maintenance socket included).
      selfTest: async ({ boardRequired }) => {
        await this.startedP;
        const fail = (what: string) => {
          throw new UpdateError('ESELFTEST', `self-test: ${what}`);
        };
        const check = this.db.pragma('quick_check', { simple: true });
        if (check !== 'ok') fail(`database quick_check says ${String(check)}`);
        if (boardRequired)
          await board
            .status()
            .catch((e: Error) => fail(`the slot board does not answer (${e.message})`));
        await drives
          .list()
          .catch((e: Error) => fail(`the drive list cannot be read (${e.message})`));
        if (!this.maintenance) fail('the maintenance socket is not listening');
      },
      hubConnected: () => this.synced,
      drained: (ms) =>
        new Promise<void>((resolve) => {
          if (this.outbox.depth() === 0) return resolve();
          const timer = setTimeout(done, ms);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          this.link.once('drained', done);
        }),
    });
  }

  /** Reconciles the slots again (live dispenses excepted) and sends a fresh Inventory. */
  private async softReset(): Promise<void> {
    await reconcile(this.commandDeps, this.returns, {
      isRunning: (id) => this.dispense.isRunning(id),
    });
    await this.link.trigger('Inventory');
  }

  /**
   * Starts the slot board driver. A board that does not answer (unplugged, powered off, a
   * reply lost) does not stop kioskd: it keeps serving the hub and kioskctl (motor commands
   * fail until the board answers) and retries in the background (BOARD_RETRY_MS doubling to
   * BOARD_RETRY_MAX_MS); once the board answers the slots are reconciled again. Exiting
   * instead would let systemd's start limit stop kioskd for good while the board is off.
   */
  private async startBoard(): Promise<void> {
    try {
      await this.hardware.board.start();
    } catch (err) {
      this.log.error(
        { err: (err as Error).message },
        'slot board not answering at start: kioskd runs without it and keeps trying',
      );
      this.retryBoard(BOARD_RETRY_MS);
    }
  }

  private retryBoard(delay: number): void {
    this.boardRetry = setTimeout(() => {
      this.boardRetry = undefined;
      if (this.stopping) return;
      this.hardware.board.start().then(
        () => {
          if (this.stopping) return;
          this.log.info('slot board answering: reconciling the slots');
          void this.startedP.then(() => {
            if (this.stopping) return;
            this.softReset().catch((err) =>
              this.log.error(
                { err: (err as Error).message },
                'reconciling after the board came back failed',
              ),
            );
          });
        },
        () => {
          if (!this.stopping) this.retryBoard(Math.min(delay * 2, BOARD_RETRY_MAX_MS));
        },
      );
    }, delay);
  }

  /**
   * The kioskctl socket. Not fatal when it cannot be created (kioskd keeps renting; the
   * technician still has kioskctl's offline commands): logged as an error instead.
   */
  private async startMaintenance(): Promise<void> {
    const server = new MaintenanceServer({
      config: this.deps.config,
      db: this.db,
      slots: this.slots,
      outbox: this.outbox,
      inbox: this.inbox,
      clock: this.clock,
      hardware: this.hardware,
      link: this.link,
      log: this.log.child({ component: 'maintenance' }),
      softwareVersion: packageVersion(),
      cloning: maintenanceCloning({
        checks: this.preparation.checks,
        cache: this.preparation.cache,
        pipeline: this.preparation.pipeline,
        locateDisk: this.preparation.locateDisk,
        readyCheck: this.preparation.readyCheck,
        slots: this.slots,
        clock: this.clock,
        log: this.log.child({ component: 'maintenance' }),
      }),
      content: maintenanceContent(this.preparation.cache),
      imageVersionFile: this.imageVersionFile,
      updates: this.updates,
      updateLock: this.updateLock,
      ...this.deps.maintenance,
    });
    this.localMethods = server;
    try {
      await server.start();
      this.maintenance = server;
    } catch (err) {
      this.log.error(
        { err: (err as Error).message, socket: server.path },
        'maintenance socket unavailable',
      );
    }
  }

  /** Stops everything; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.teardown();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    const log = this.log;
    const step = async (what: string, fn: () => Promise<unknown> | unknown) => {
      try {
        await fn();
      } catch (err) {
        log.warn({ err: (err as Error).message }, `stop: ${what} failed`);
      }
    };
    clearTimeout(this.boardRetry);
    if (this.started) await step('systemd', () => this.notifier.stopping());
    await step('maintenance socket', () => this.maintenance?.stop());
    await step('metrics', () => this.metrics?.stop());
    await step('update', () => this.updates?.stop());
    this.updateLock.close(); // work waiting for an update gives up; recovered at the next start
    await step('keypad', () => this.pickup?.stop());
    await step('hub link', () => this.link?.stop());
    await step('diagnostics uploads', () => this.diagnostics?.stop());
    await step('dispenses', () => this.dispense?.stop());
    await step('returns', () => this.returns?.stop());
    await step('disk watch', () => this.diskWatch?.stop());
    await step('hold expiry', () => this.holds?.stop());
    await step('preparation', () => this.preparation?.stop());
    const hw = this.hardware;
    if (hw) {
      await step('unmount', () => this.unmountAll());
      await step('gpio (relays to write-protect ON)', () => hw.gpio.stop());
      await step('drives', () => hw.drives.stop());
      await step('usb', () => hw.usb.stop());
      await step('storage', () => hw.storage.stop());
      await step('board', () => hw.board.stop());
    }
    if (this.db?.open) {
      if (this.started) this.markRun(this.readMarker() === 2 ? 2 : 0);
      this.db.close();
    }
    if (this.started) log.info('kioskd stopped');
    this.started = false;
  }

  private async unmountAll(): Promise<void> {
    const { drives, storage } = this.hardware;
    for (const d of await drives.list()) {
      if (d.mountpoints.length > 0) await storage.unmount(d.device, { timeoutMs: 5000 });
    }
  }

  /** Every slot's disk port powered (a dispense interrupted by a crash may have left one off). */
  private async powerSlotPorts(): Promise<void> {
    for (let s = 1; s <= this.deps.config.slots.count; s++) {
      const port = this.hardware.usbPortOf(s);
      if (!port) continue;
      await this.hardware.usb
        .setPortPower(port, true)
        .catch((err: { code?: string; message: string }) => {
          if (err.code !== 'ENOTSUPPORTED')
            this.log.warn({ slot: s, port, err: err.message }, 'port power on failed');
        });
    }
  }

  private readMarker(): number | undefined {
    const row = this.db.prepare('SELECT value FROM counters WHERE name = ?').get(RUN_MARKER) as
      | { value: number }
      | undefined;
    return row?.value;
  }

  private readRunMarker(): BootRequest['bootReason'] {
    const v = this.readMarker();
    if (v === 1) return 'Crash';
    if (v === 2) return 'Reset';
    return 'PowerOn';
  }

  private markRun(value: number): void {
    this.db
      .prepare(
        'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      )
      .run(RUN_MARKER, value);
  }
}
