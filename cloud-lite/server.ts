import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import proxyaddr from '@fastify/proxy-addr';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { AlertService } from './alerts/alert-service.js';
import { type Cluster, ClusterBatch, SoloCluster } from './cluster/cluster.js';
import { contentDir, type HubConfig, publicOrigin } from './config.js';
import { HubContentStore } from './content/index.js';
import { buildHttpApp } from './http/app.js';
import { KioskHub } from './hub/hub.js';
import { InvariantJob } from './invariants/invariant-job.js';
import type { Logger } from './log.js';
import { type FleetSnapshot, HubMetrics } from './metrics.js';
import { createMailer, type Mailer } from './notifications/mailer.js';
import { RenterNotifications } from './notifications/renter-notifications.js';
import { UnsubscribeLinks } from './notifications/unsubscribe.js';
import { KioskDiagnostics } from './registry/diagnostics.js';
import { KioskRegistry } from './registry/kiosk-registry.js';
import { RemoteConfigService } from './registry/remote-config.js';
import { type AccountMailer, emailAccountMailer } from './rental/accounts/account-mail.js';
import type { PaymentProvider } from './rental/payments/provider.js';
import { RentalDomain } from './rental/rental-domain.js';
import { type HubSigningKey, loadOrCreateSigningKey } from './signing-key.js';
import { type HubStore, openStore } from './store/open-store.js';
import type { Store } from './store/types.js';
import { RolloutService } from './updates/rollouts.js';

export interface HubServerDeps {
  config: HubConfig;
  logger: Logger;
  /** Built web assets (scripts/build-web.ts); default <repo>/dist/web. */
  webAssetDir?: string;
  /** Rental domain options: its clock, payment provider and account mailer (tests); defaults from config. */
  rental?: { now?: () => Date; provider?: PaymentProvider; mailer?: AccountMailer };
  /** The alerts' clock (tests); default the system clock. */
  alertsNow?: () => Date;
  /** false: SQLite's money commits are not synced (SqliteStore.open); only for benchmarks measuring the cost. */
  storeMoneySync?: boolean;
  /** The hub's admission limit and wait (tests): KioskHubDeps.admitConcurrency, admitWaitMs. */
  hubAdmission?: { concurrency?: number; waitMs?: number };
  /** PostgreSQL: how often a follower tries to take the lead (ms; default 2000). */
  leaderRetryMs?: number;
  /** Called with every route as it is registered (tests: the API document's coverage). */
  onRoute?: (route: RouteOptions) => void;
  /**
   * Compile every request validator and response serializer at ready, not on first use (tests;
   * http/exact-body.ts, http/lazy-serializers.ts).
   */
  eagerSchemas?: boolean;
  /** Called with the app before it listens, to add domain routes and event handlers. */
  extend?: (ctx: {
    app: FastifyInstance;
    hub: KioskHub;
    store: Store;
    registry: KioskRegistry;
  }) => void;
}

/**
 * The cloud-lite process: one HTTP server (fastify) that also takes the kiosks' WebSocket
 * upgrades on /kiosk. `start()` opens the store, loads the signing key and listens;
 * `stop()` stops accepting, closes kiosk sockets with 1001, waits for running
 * transactions and closes the database.
 */
export class HubServer {
  store!: HubStore;
  registry!: KioskRegistry;
  hub!: KioskHub;
  app!: FastifyInstance;
  metrics = new HubMetrics();
  signingKey!: HubSigningKey;
  rental!: RentalDomain;
  content!: HubContentStore;
  rollouts!: RolloutService;
  diagnostics!: KioskDiagnostics;
  remoteConfig!: RemoteConfigService;
  /** Outgoing mail: SMTP when `config.smtp` is set, else written to the log. */
  mailer!: Mailer;
  alerts!: AlertService;
  /** Renter e-mail: receipts, reminders, reservation notices (notifications/). */
  renterMail!: RenterNotifications;
  /** The hub processes sharing the store: this one alone (SQLite), or several (PostgreSQL). */
  cluster!: Cluster;
  /** The live invariant checker (its violations become alerts). */
  invariants!: InvariantJob;
  private stopped: Promise<void> | undefined;
  /** The bound port, once listening. */
  private port = 0;

  constructor(private readonly deps: HubServerDeps) {}

  /** Resolves with the bound port. Throws ConfigError / StoreVersionError on bad setup. */
  async start(): Promise<{ port: number }> {
    const { config, logger } = this.deps;
    const app = await this.build();
    app.server.on('upgrade', (req, socket, head) => this.hub.handleUpgrade(req, socket, head));
    await this.hub.start();
    await this.rental.start();
    // Before the first kiosk: the cluster connection is this process's presence.
    await this.cluster.start();
    await app.listen({ host: config.host, port: config.port, backlog: config.listenBacklog });
    const port = (app.server.address() as AddressInfo).port;
    this.port = port;
    logger.info({ port, hubProcess: this.cluster.processId }, 'cloud-lite listening');
    return { port };
  }

  /**
   * Opens the store and builds the HTTP app with every route, without listening or starting
   * the hub's and the domain's timers: start() calls it; alone, it serves the API document
   * (scripts/docs/openapi-doc.ts). stop() undoes it.
   */
  async build(): Promise<FastifyInstance> {
    const { config, logger } = this.deps;
    this.signingKey = loadOrCreateSigningKey(config.signingKeyPath);
    this.store = await openStore(config, {
      moneySync: this.deps.storeMoneySync,
      logger: logger.child({ component: 'store' }),
    });
    // The PostgreSQL cluster (and `pg`) is loaded only for a PostgreSQL store.
    this.cluster =
      config.store.kind === 'postgres'
        ? new (await import('./cluster/pg-cluster.js')).PgCluster({
            url: config.store.url ?? '',
            logger: logger.child({ component: 'cluster' }),
            leaderRetryMs: this.deps.leaderRetryMs,
          })
        : new SoloCluster();
    this.registry = new KioskRegistry({
      store: this.store,
      enrolmentTokenTtlSeconds: config.enrolmentTokenTtlSeconds,
    });
    this.hub = new KioskHub({
      store: this.store,
      registry: this.registry,
      logger,
      metrics: this.metrics,
      signingKey: this.signingKey.privateKey,
      heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
      pingIntervalMs: config.pingIntervalMs,
      maxPayloadBytes: config.maxPayloadBytes,
      commandCallTimeoutMs: config.commandCallTimeoutMs,
      commandSweepIntervalMs: config.commandSweepIntervalMs,
      clientAddress: clientAddressOf(config.trustProxy),
      cluster: this.cluster,
      // Half the pool for reconnecting kiosks' checks and Boots, the rest for the others.
      ...(config.store.kind === 'postgres'
        ? { admitConcurrency: Math.max(1, Math.floor(config.store.poolSize / 2)) }
        : {}),
      ...(this.deps.hubAdmission?.concurrency
        ? { admitConcurrency: this.deps.hubAdmission.concurrency }
        : {}),
      ...(this.deps.hubAdmission?.waitMs ? { admitWaitMs: this.deps.hubAdmission.waitMs } : {}),
    });
    this.mailer = createMailer(config.smtp, logger);
    this.rental = new RentalDomain({
      mailer: emailAccountMailer(this.mailer, logger, config.notifications.timeZone),
      store: this.store,
      hub: this.hub,
      config: config.rental,
      logger: logger.child({ component: 'rental' }),
      // Links in account mail: the public origin, else where this hub listens.
      publicUrl: () => publicOrigin(config) ?? `http://${config.host}:${this.port}`,
      pickupCodeKey: this.signingKey.privateKey,
      ...this.deps.rental,
    });
    this.content = new HubContentStore({ dir: contentDir(config) });
    await this.content.start();
    this.rollouts = new RolloutService({
      store: this.store,
      kiosks: this.hub,
      blobSize: (sha) => this.content.blobSize(sha),
      // Kiosks fetch the blob path from their own content origin (kiosk/update).
      bundleUrl: (sha) =>
        `${publicOrigin(config) ?? `http://${config.host}:${this.port}`}/blobs/sha256/${sha}`,
      logger: logger.child({ component: 'rollouts' }),
      tickMs: config.rolloutTickMs,
    });
    this.rollouts.attach();
    this.alerts = new AlertService({
      store: this.store,
      config: config.alerts,
      logger,
      kiosks: this.hub,
      catalog: this.rental.catalog,
      mailer: this.mailer,
      now: this.deps.alertsNow,
    });
    this.alerts.attach();
    this.metrics.setAlertSource(async () => {
      const counts = new Map<string, { kind: string; state: string; count: number }>();
      for (const a of await this.alerts.list(['open', 'acknowledged'], 100_000)) {
        const key = `${a.kind}/${a.state}`;
        const c = counts.get(key) ?? { kind: a.kind, state: a.state, count: 0 };
        c.count += 1;
        counts.set(key, c);
      }
      return [...counts.values()];
    });
    this.invariants = new InvariantJob({
      store: this.store,
      alerts: this.alerts,
      logger: logger.child({ component: 'invariants' }),
      intervalSeconds: config.alerts.invariantCheckIntervalSeconds,
      authorisationMaxAgeHours: config.alerts.authorisationMaxAgeHours,
      now: this.deps.alertsNow,
    });
    // A kiosk back: look at the facts soon rather than at the next tick (one sweep for many).
    this.hub.on('online', () => this.alerts.soon());
    this.diagnostics = new KioskDiagnostics({
      store: this.store,
      kiosks: this.hub,
      logger: logger.child({ component: 'diagnostics' }),
      maxBytes: config.diagnostics.maxUploadBytes,
      deadlineSeconds: config.diagnostics.deadlineSeconds,
    });
    this.diagnostics.attach();
    this.remoteConfig = new RemoteConfigService({
      store: this.store,
      kiosks: this.hub,
      logger: logger.child({ component: 'remote-config' }),
      deadlineSeconds: 24 * 60 * 60, // the longest a kiosk accepts an ApplyConfig signature for
    });
    this.remoteConfig.attach();
    const webOrigin = () => publicOrigin(config) ?? `http://${config.host}:${this.port}`;
    const unsubscribeLinks = new UnsubscribeLinks(this.signingKey.privateKey, webOrigin);
    this.renterMail = new RenterNotifications({
      store: this.store,
      mailer: this.mailer,
      logger,
      config: config.notifications,
      rental: { config: config.rental, events: this.rental.events },
      links: unsubscribeLinks,
      origin: webOrigin,
      isLeader: () => this.cluster.isLeader(),
      now: this.deps.rental?.now,
    });
    this.renterMail.attach();
    const app = await buildHttpApp({
      config,
      logger,
      store: this.store,
      registry: this.registry,
      hub: this.hub,
      rental: this.rental,
      content: this.content,
      rollouts: this.rollouts,
      alerts: this.alerts,
      metrics: this.metrics,
      diagnostics: this.diagnostics,
      remoteConfig: this.remoteConfig,
      unsubscribeLinks,
      publicKeyPem: this.signingKey.publicKeyPem,
      webAssetDir: this.deps.webAssetDir,
      onRoute: this.deps.onRoute,
      eagerSchemas: this.deps.eagerSchemas,
    });
    this.app = app;
    this.rental.attach();
    this.metrics.setFleetSource(() => this.fleetSnapshot());
    this.relayNotifier();
    this.relayAlerts();
    // Periodic work runs on the cluster's leader only (always this process on SQLite).
    for (const w of this.hub.leaderWork()) this.cluster.whileLeader(w);
    this.cluster.whileLeader({
      name: 'rental sweeps',
      start: () => this.rental.startSweeps(),
      stop: () => this.rental.stop(),
    });
    this.cluster.whileLeader({
      name: 'rollouts',
      start: () => this.rollouts.start(),
      stop: () => this.rollouts.standBy(),
    });
    this.cluster.whileLeader({
      name: 'alerts',
      start: () => this.alerts.start(),
      stop: () => this.alerts.stop(),
    });
    this.cluster.whileLeader({
      name: 'renter mail',
      start: () => this.renterMail.start(),
      stop: () => this.renterMail.stop(),
    });
    this.cluster.whileLeader({
      name: 'invariants',
      start: () => this.invariants.start(),
      stop: () => this.invariants.stop(),
    });
    this.deps.extend?.({ app, hub: this.hub, store: this.store, registry: this.registry });
    return app;
  }

  /** The fleet gauges of a scrape: one read transaction. */
  private fleetSnapshot(): Promise<FleetSnapshot> {
    return this.store.transaction(async (tx) => {
      const kiosks = (await tx.kiosks.list()).filter((k) => !k.revokedAt);
      const slots: FleetSnapshot['slots'] = [];
      const stock: FleetSnapshot['stock'] = [];
      for (const k of kiosks) {
        const byState = new Map<string, number>();
        for (const s of await tx.slots.list(k.id))
          byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
        for (const [state, count] of byState) slots.push({ kioskId: k.id, state, count });
        for (const d of await this.rental.catalog.offered(tx, k.id))
          stock.push({
            kioskId: k.id,
            diskTypeId: d.id,
            count: (await this.rental.catalog.readySlots(tx, k.id, d)).length,
          });
      }
      return {
        connectedKiosks: this.hub.connectedCount,
        commandsByState: await tx.commands.countByState(),
        kiosks: kiosks.map((k) => ({
          id: k.id,
          online: this.hub.connectedInCluster(k),
          lastSeenAt: k.lastSeenAt,
        })),
        slots,
        stock,
      };
    });
  }

  /**
   * Renters' live streams on every process: order and reservation changes committed here are
   * told to the other processes, theirs are emitted here as if local (never told back).
   */
  private relayNotifier(): void {
    const { notifier } = this.rental;
    let relaying = false;
    for (const t of ['order', 'reservation'] as const)
      notifier.on(t, (id) => {
        if (!relaying) this.cluster.publish({ t, id });
      });
    this.cluster.on('message', (m) => {
      if (m.t !== 'order' && m.t !== 'reservation') return;
      relaying = true;
      try {
        notifier.emit(m.t, m.id);
      } finally {
        relaying = false;
      }
    });
  }

  /**
   * Operators' live alert panels on every process: alert changes committed here are told to the
   * other processes (batched: a sweep that opens many alerts costs one NOTIFY); theirs make the
   * panels here re-read ('live').
   */
  private relayAlerts(): void {
    const batch = new ClusterBatch(this.cluster, () => ({ t: 'alerts' }));
    this.alerts.on('change', () => batch.add('alerts'));
    this.cluster.on('message', (m) => {
      if (m.t === 'alerts') this.alerts.emit('live');
    });
  }

  /** Idempotent graceful shutdown. */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    const { logger } = this.deps;
    logger.info('cloud-lite stopping');
    this.app?.server.close();
    await this.cluster?.stop();
    await this.invariants?.stop();
    await this.alerts?.stop();
    await this.renterMail?.stop();
    await this.rental?.stop();
    await this.rollouts?.stop();
    await this.hub?.stop();
    await this.app?.close();
    await this.store?.close();
    this.mailer?.close();
    logger.info('cloud-lite stopped');
  }
}

/** The client's address as fastify's `request.ip` gives it: forwarded only by a trusted proxy. */
function clientAddressOf(trustProxy: readonly string[]) {
  const trust = trustProxy.length > 0 ? proxyaddr.compile([...trustProxy]) : () => false;
  return (req: IncomingMessage) => proxyaddr(req, trust);
}
