import type { KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { Semaphore } from '../../common/semaphore.js';
import {
  type BootRequest,
  CallError,
  type EventType,
  type HubToKioskAction,
  SUBPROTOCOL,
} from '../../protocol/index.js';
import {
  BATCH_MAX,
  type Cluster,
  ClusterBatch,
  type ClusterMessage,
  type LeaderWork,
  SoloCluster,
} from '../cluster/cluster.js';
import type { Logger } from '../log.js';
import type { HubMetrics } from '../metrics.js';
import type { KioskRegistry } from '../registry/kiosk-registry.js';
import { hashSecret, sameHash } from '../registry/secrets.js';
import type { CommandRecord, CommandState, KioskRecord, Store, Tx } from '../store/types.js';
import { CommandDispatcher, FINAL_STATES } from './command-dispatcher.js';
import { settleCommandsOnOutcomes } from './command-outcomes.js';
import { EventIntake } from './event-intake.js';
import type { EventHandler, KioskCommands } from './kiosk-commands.js';
import { kioskMessageHandlers } from './kiosk-messages.js';
import { KioskSession, type KioskSessionShared } from './kiosk-session.js';
import { SlotView } from './slot-view.js';
import { TouchBatch } from './touch-batch.js';
import {
  CLOSE_GOING_AWAY,
  CLOSE_REPLACED,
  CLOSE_REVOKED,
  CLOSE_SECRET_REPLACED,
  CLOSE_TRY_AGAIN,
  type CommandInput,
} from './types.js';
import { offersSubprotocol, parseBasicAuth, rejectUpgrade } from './upgrade-auth.js';

/** Default of KioskHubDeps.admitConcurrency. */
export const ADMIT_CONCURRENCY = 4;
/** Default of KioskHubDeps.admitWaitMs. */
export const ADMIT_WAIT_MS = 20_000;
const TURNED_AWAY = Symbol('turned away');
/**
 * A kiosk socket's 'error' listener while the hub checks its upgrade (before ws holds it): one
 * function for every socket, taken off once ws has its own (see handleUpgrade).
 */
const ignoreError = () => undefined;

export interface KioskHubDeps {
  store: Store;
  registry: KioskRegistry;
  logger: Logger;
  metrics: HubMetrics;
  signingKey: KeyObject;
  heartbeatIntervalSeconds: number;
  pingIntervalMs: number;
  maxPayloadBytes: number;
  commandCallTimeoutMs: number;
  commandSweepIntervalMs: number;
  /** The client's address as logs name it (behind a trusted proxy, the forwarded one). */
  clientAddress?: (req: IncomingMessage) => string | undefined;
  /** The hub processes sharing the store (default: this one alone). */
  cluster?: Cluster;
  /**
   * Upgrades' secret checks and Boots' statements running at once (default 4; the server gives
   * half the PostgreSQL pool): the rest wait here, in order, not in the store's pool, so
   * that a storm of reconnecting kiosks leaves connections to heartbeats, events and commands.
   * Split in two queues: half (rounded up) for Boots, the rest (at least 1) for upgrades'
   * secret checks, so that a flood of upgrades (any well-formed Basic header gets that far)
   * never holds the permits authenticated kiosks' Boots wait for.
   */
  admitConcurrency?: number;
  /** How long an upgrade or a Boot waits for admission before it is turned away (ms, default 20 s). */
  admitWaitMs?: number;
  now?: () => Date;
}

/**
 * The kiosks' WebSocket hub: authenticates upgrades on `/kiosk`, keeps one session per kiosk,
 * answers Boot/Heartbeat/Inventory, takes in events and delivers durable commands. The domains
 * reach it through its KioskCommands port.
 * Emits 'commandState' (CommandRecord), 'online' (kioskId: a connection's first accepted Boot
 * claimed the kiosk here), 'offline' (kioskId), 'booted'
 * (kioskId, BootRequest: an accepted Boot, recorded), and
 * 'fleetChange' (kioskId) after anything the operator's fleet view shows changed (connection,
 * a Boot, an Inventory or event stored, a command's state), here or, on a shared cluster, on another
 * hub process (told by the cluster's 'fleet', 'session' and 'command' messages, sent after the
 * commit): the live fleet table follows it; 'fleetResync' when such messages may have been
 * lost (the cluster's link was re-made): the live fleet table re-reads every kiosk.
 */
export class KioskHub
  extends EventEmitter<{
    commandState: [CommandRecord];
    online: [string];
    offline: [string];
    fleetChange: [string];
    fleetResync: [];
    booted: [string, BootRequest];
  }>
  implements KioskCommands
{
  readonly commands: CommandDispatcher;
  readonly events: EventIntake;
  private readonly sessions = new Map<string, KioskSession>();
  /**
   * Connections of kiosks that have a session here, attached but not Booted yet: one replaces
   * its kiosk's session when its Boot comes (the kiosk uses it), not when it attaches. In a
   * storm an upgrade can complete after its kiosk gave up on it and reconnected: the hub reads
   * nothing from a socket between the upgrade request and the 101, so it learns of the hang-up
   * only once attached; closing the kiosk's live session then (4001) would be wrong.
   */
  private readonly newcomers = new Set<KioskSession>();
  /** Kiosks asked for an Inventory that has not come yet: one request at a time each. */
  private readonly inventoryAsked = new Set<string>();
  private readonly wss: WebSocketServer;
  private pingTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private startedAtMs = 0;
  /**
   * Per kiosk, how many times its secret was replaced or the kiosk revoked since start (told
   * by this process or another): an upgrade authenticated before such a change is checked
   * again, and one attached after it is closed too.
   */
  private readonly secretEpochs = new Map<string, number>();
  readonly cluster: Cluster;
  /** Fleet changes the other processes are told about (after their commits), batched. */
  private readonly fleetBatch: ClusterBatch;
  /** Kiosks whose Boot claimed them here: the other processes close older sockets (batched). */
  private readonly sessionBatch: ClusterBatch;
  /** Heartbeats' lastSeenAt writes, one statement per batch. */
  private readonly touches: TouchBatch;
  private readonly onRevoked = (kioskId: string) => {
    this.revoked(kioskId);
    this.cluster.publish({ t: 'revoked', kioskId });
  };
  private readonly onSecretReplaced = (kioskId: string) => {
    this.secretReplaced(kioskId);
    this.cluster.publish({ t: 'secretReplaced', kioskId });
  };
  /** Upgrades' secret checks and Boots: see KioskHubDeps.admitConcurrency. */
  private readonly admission: { upgrades: Semaphore; boots: Semaphore };
  private readonly onClusterMessage = (m: ClusterMessage) => this.clusterMessage(m);
  private readonly onResync = () => {
    // The leader may have released this process's kiosks while its cluster connection (its
    // presence) was being re-made: they are claimed again.
    void this.reclaim();
    for (const s of this.sessions.values())
      if (s.ready) void this.commands.deliverOutstanding(s).catch(() => undefined);
    this.commands.resync();
    this.emit('fleetResync');
  };

  /** Each kiosk socket's session, for the socket listeners (one set per hub, not per kiosk). */
  private readonly sessionOf = new WeakMap<WebSocket, KioskSession>();
  private readonly socketListeners: ReturnType<KioskHub['makeSocketListeners']>;

  constructor(private readonly deps: KioskHubDeps) {
    super();
    this.setMaxListeners(0);
    this.socketListeners = this.makeSocketListeners();
    this.cluster = deps.cluster ?? new SoloCluster();
    this.fleetBatch = new ClusterBatch(this.cluster, (kioskIds) => ({ t: 'fleet', kioskIds }));
    this.sessionBatch = new ClusterBatch(this.cluster, (kioskIds) => ({ t: 'sessions', kioskIds }));
    this.touches = new TouchBatch({ store: deps.store });
    const limit = deps.admitConcurrency ?? ADMIT_CONCURRENCY;
    this.admission = {
      upgrades: new Semaphore(Math.max(1, Math.floor(limit / 2))),
      boots: new Semaphore(Math.max(1, Math.ceil(limit / 2))),
    };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.commands = new CommandDispatcher({
      store: deps.store,
      logger: deps.logger,
      signingKey: deps.signingKey,
      channelFor: (id) => {
        const s = this.sessions.get(id);
        if (s && !s.ready) s.commandsWaiting = true; // its Boot re-sends them
        return s?.ready ? s : undefined;
      },
      callTimeoutMs: deps.commandCallTimeoutMs,
      sweepIntervalMs: deps.commandSweepIntervalMs,
      publish: (c) => this.cluster.publish({ t: 'command', id: c.id, kioskId: c.kioskId, rec: c }),
      now: deps.now,
    });
    this.commands.on('commandState', (c) => {
      this.emit('commandState', c);
      this.emit('fleetChange', c.kioskId);
    });
    this.commands.on('lateAnswer', () => deps.metrics.error('late_answer'));
    this.commands.on('roundTrip', (r) =>
      deps.metrics.commandRoundTrip(r.action, r.outcome, r.seconds),
    );
    this.events = new EventIntake({
      store: deps.store,
      logger: deps.logger,
      now: deps.now,
      onRecorded: (event) => {
        deps.metrics.eventReceived(event);
        this.fleetChanged(event.kioskId);
      },
      onConflict: () => deps.metrics.error('event_conflict'),
      onGap: (kioskId) => {
        deps.metrics.error('event_seq_gap');
        this.requestInventory(kioskId, 'after a gap');
      },
    });
    settleCommandsOnOutcomes(this.events, this.commands);
    new SlotView({
      logger: deps.logger,
      now: deps.now,
      requestInventory: (kioskId, why) => this.requestInventory(kioskId, why),
    }).attach(this.events);
  }

  /**
   * Sends TriggerMessage Inventory (a durable command, deadline 5 minutes); logs a failure.
   * At most one request per kiosk is outstanding: another is sent only after an Inventory
   * arrived or the request ended without one (rejected, failed, expired).
   */
  private requestInventory(kioskId: string, why: string): void {
    if (this.inventoryAsked.has(kioskId)) return;
    this.inventoryAsked.add(kioskId);
    this.sendCommand(kioskId, 'TriggerMessage', { message: 'Inventory' }, this.deadline(300))
      .then((c) =>
        this.commands.waitFor(c.id, { until: FINAL_STATES }).then((done) => {
          // completed: the Inventory is on its way (its arrival clears the flag).
          if (done.state !== 'completed') this.inventoryAsked.delete(kioskId);
        }),
      )
      .catch((err) => {
        this.inventoryAsked.delete(kioskId);
        this.deps.logger.error({ err, kioskId, why }, `could not request Inventory ${why}`);
      });
  }

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  private revoked(kioskId: string): void {
    this.secretEpochs.set(kioskId, this.secretEpoch(kioskId) + 1);
    this.disconnect(kioskId, CLOSE_REVOKED, 'revoked');
  }

  private secretReplaced(kioskId: string): void {
    this.secretEpochs.set(kioskId, this.secretEpoch(kioskId) + 1);
    if (this.sessions.has(kioskId))
      this.deps.logger.info({ kioskId }, 'kiosk secret replaced: closing its connection');
    this.disconnect(kioskId, CLOSE_SECRET_REPLACED, 'secret replaced');
  }

  /**
   * Another process replaced kiosk `kioskId`'s secret (announced after its commit): an upgrade
   * checking the secret here checks again, and a connection here that authenticated with
   * another secret than the committed one is closed (4002). One that authenticated with the new
   * secret stays: the announcement may arrive after the kiosk, given the new secret by that
   * process, connected here with it (closing it would cut a good connection and, before its
   * Boot's claim is announced, leave the kiosk offline on a later Boot elsewhere).
   */
  private async secretReplacedElsewhere(kioskId: string): Promise<void> {
    this.secretEpochs.set(kioskId, this.secretEpoch(kioskId) + 1);
    const here = [...this.newcomers].filter((n) => n.kioskId === kioskId);
    const s = this.sessions.get(kioskId);
    if (s) here.push(s);
    if (here.length === 0) return;
    // Read after the announcing commit: the new secret, or a later one (announced in turn).
    const k = await this.deps.store
      .read((r) => r.kiosks.get(kioskId))
      .catch((err) => {
        this.deps.logger.error(
          { err, kioskId },
          'could not read the secret: closing its connection',
        );
        return undefined;
      });
    const current = k && !k.revokedAt ? k.secretHash : null;
    for (const old of here) {
      if (!old.open || (current && sameHash(Buffer.from(old.secretHash, 'base64'), current)))
        continue;
      this.deps.logger.info({ kioskId }, 'kiosk secret replaced: closing its connection');
      old.close(CLOSE_SECRET_REPLACED, 'secret replaced');
    }
  }

  /** What another hub process told (cluster/cluster.ts). */
  private clusterMessage(m: ClusterMessage): void {
    if (this.stopping) return;
    if (m.t === 'command') {
      this.commands.remoteChange(m.id, m.kioskId, m.rec);
      this.emit('fleetChange', m.kioskId);
    } else if (m.t === 'revoked') this.revoked(m.kioskId);
    else if (m.t === 'secretReplaced') void this.secretReplacedElsewhere(m.kioskId);
    else if (m.t === 'released') void this.reclaim(m.kioskIds);
    else if (m.t === 'sessions' || m.t === 'session') {
      for (const id of m.t === 'session' ? [m.kioskId] : m.kioskIds) {
        void this.closeIfReplaced(id);
        this.emit('fleetChange', id);
      }
    } else if (m.t === 'fleet') for (const id of m.kioskIds) this.emit('fleetChange', id);
  }

  /**
   * What kiosk `kioskId` shows the operator changed, committed: the fleet view here follows at
   * once, the other processes' after the batch goes out.
   */
  private fleetChanged(kioskId: string): void {
    this.emit('fleetChange', kioskId);
    this.fleetBatch.add(kioskId);
  }

  /**
   * A kiosk connected to another process: if the registry names another holder than this
   * process with a connection not older than the one here, the socket here is the older one
   * and is closed with 4001 (the newest wins; the registry row, written by each connection's
   * Boot, decides a race). A session here that connected after the registry's claim stays: the
   * kiosk reconnected here after it connected there (the announcement came late, or this
   * connection has not Booted yet), and its Boot will take the claim over (KioskRepo.recordBoot
   * refuses only an older connection), the other process then closing its socket.
   */
  private async closeIfReplaced(kioskId: string): Promise<void> {
    const s = this.sessions.get(kioskId);
    if (!s) return;
    const k = await this.deps.store
      .read((r) => r.kiosks.get(kioskId))
      .catch((err) => {
        this.deps.logger.error({ err, kioskId }, 'could not read the session registry');
        return undefined;
      });
    if (!k || k.hubProcess === this.cluster.processId || this.sessions.get(kioskId) !== s) return;
    if (!claimReplaces(k, s.connectedAt)) return;
    this.deps.logger.info(
      { kioskId, holder: k.hubProcess },
      'the kiosk connected to another hub process: closing the old connection',
    );
    s.close(CLOSE_REPLACED, 'replaced');
  }

  /**
   * Claims again the kiosks whose ready sessions this process holds (all, or those of `ids`):
   * the leader released them (KioskRepo.releaseDeadHolders) while this process's cluster
   * connection was being re-made, or with a view of pg_stat_activity read before it was. The
   * newest connection still wins (KioskRepo.reclaim); a kiosk claimed again is announced as
   * a Boot's claim is (another process closes an older socket of it).
   */
  private reclaim(ids?: readonly string[]): Promise<void> {
    const held: Array<{ id: string; connectedAt: string }> = [];
    for (const id of ids ?? this.sessions.keys()) {
      const s = this.sessions.get(id);
      if (s?.ready && s.open && s.connectedAt) held.push({ id, connectedAt: s.connectedAt });
    }
    if (held.length === 0) return Promise.resolve();
    return this.deps.store
      .transaction((tx) => tx.kiosks.reclaim(this.cluster.processId, held), {
        isolation: 'autocommit',
      })
      .then((claimed) => {
        if (claimed.length === 0) return;
        this.deps.logger.warn(
          { kiosks: claimed.length },
          'kiosks held here were released by the leader: claimed again',
        );
        for (const id of claimed) {
          this.sessionBatch.add(id);
          this.fleetChanged(id);
        }
      })
      .catch((err) => {
        if (!this.stopping) this.deps.logger.error({ err }, 'could not claim kiosks again');
      });
  }

  /**
   * Marks offline the kiosks of hub processes that are gone (leader work, several processes)
   * and tells the others which: a holder that is in fact there (its cluster connection was
   * being re-made when pg_stat_activity was read) claims its kiosks again. This process's
   * own kiosks are never released (it is here). Resolves with the ids released.
   */
  releaseDeadHolders(): Promise<string[]> {
    return this.deps.store
      .transaction(
        (tx) => tx.kiosks.releaseDeadHolders(this.now().toISOString(), this.cluster.processId),
        { isolation: 'autocommit' },
      )
      .then((ids) => {
        if (ids.length === 0) return ids;
        this.deps.logger.warn(
          { kiosks: ids.length },
          'kiosks of a hub process that is gone: marked offline',
        );
        for (const id of ids) this.fleetChanged(id);
        for (let i = 0; i < ids.length; i += BATCH_MAX)
          this.cluster.publish({ t: 'released', kioskIds: ids.slice(i, i + BATCH_MAX) });
        return ids;
      })
      .catch((err) => {
        this.deps.logger.warn({ err }, 'releasing dead holders failed');
        return [];
      });
  }

  /**
   * Leader work of the hub (cluster/cluster.ts): expiring commands past their deadline and,
   * with several processes, marking offline the kiosks of processes that are gone.
   */
  leaderWork(): LeaderWork[] {
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();
    const release = () => this.releaseDeadHolders().then(() => undefined);
    return [
      {
        name: 'command expiry',
        start: () => this.commands.start(),
        stop: () => this.commands.stopSweeping(),
      },
      {
        name: 'dead session holders',
        start: () => {
          if (!this.cluster.shared) return;
          running = release();
          timer = setInterval(() => {
            running = running.then(release);
          }, this.deps.commandSweepIntervalMs);
          timer.unref();
        },
        stop: async () => {
          clearInterval(timer);
          await running;
        },
      },
    ];
  }

  private secretEpoch(kioskId: string): number {
    return this.secretEpochs.get(kioskId) ?? 0;
  }

  private deadline(seconds: number): Date {
    return new Date(this.now().getTime() + seconds * 1000);
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.startedAtMs = this.now().getTime();
    // One process: every kiosk marked online was on this process before it stopped. Several:
    // the others' kiosks are theirs; the leader releases those of processes that are gone.
    if (!this.cluster.shared)
      await this.deps.store.transaction((tx) => tx.kiosks.setAllOffline(this.now().toISOString()), {
        isolation: 'autocommit',
      });
    this.deps.registry.on('revoked', this.onRevoked);
    this.deps.registry.on('secretReplaced', this.onSecretReplaced);
    this.cluster.on('message', this.onClusterMessage);
    this.cluster.on('resync', this.onResync);
    this.commands.resume();
    this.pingTimer = setInterval(() => this.pingAll(), this.deps.pingIntervalMs);
  }

  /**
   * Stops accepting kiosks, closes every session with 1001, waits (at most `graceMs`) for the
   * sockets to close and for events being recorded to commit. Does not close the store.
   */
  async stop(graceMs = 3000): Promise<void> {
    this.stopping = true;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.deps.registry.off('revoked', this.onRevoked);
    this.deps.registry.off('secretReplaced', this.onSecretReplaced);
    this.cluster.off('message', this.onClusterMessage);
    this.cluster.off('resync', this.onResync);
    this.commands.stop();
    const closing = [...this.sessions.values(), ...this.newcomers].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.ws.readyState === s.ws.CLOSED) return resolve();
          const timer = setTimeout(() => {
            s.ws.terminate();
            resolve();
          }, graceMs);
          s.ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          s.close(CLOSE_GOING_AWAY, 'hub shutting down');
        }),
    );
    await Promise.all(closing);
    await this.events.idle();
    await this.commands.answersWritten();
    await this.touches.flush();
    this.fleetBatch.flush();
    this.sessionBatch.flush();
    this.wss.close();
  }

  /** Registers a domain event handler (see EventIntake.onEvent). */
  onEvent<T extends EventType>(type: T | '*', handler: EventHandler<T>): void {
    this.events.onEvent(type, handler);
  }

  /** See KioskCommands.send (CommandDispatcher.record). */
  send<A extends HubToKioskAction>(
    tx: Tx,
    kioskId: string,
    action: A,
    payload: CommandInput<A>,
    deadline: Date,
  ): Promise<CommandRecord> {
    return this.commands.record(tx, kioskId, action, payload, deadline);
  }

  /** See KioskCommands.settle (CommandDispatcher.finish). */
  settle(
    tx: Tx,
    commandId: string,
    state: 'completed' | 'failed',
    opts: { kioskId: string; result?: Record<string, unknown> },
  ): Promise<CommandRecord | undefined> {
    return this.commands.finish(tx, commandId, state, opts);
  }

  /** See KioskCommands.onCommandEnded. */
  onCommandEnded(listener: (command: CommandRecord) => void): void {
    this.commands.on('ended', listener);
  }

  /** See KioskCommands.onKioskOnline. */
  onKioskOnline(listener: (kioskId: string) => void): void {
    this.on('online', listener);
  }

  /** See KioskCommands.onKioskBooted. */
  onKioskBooted(listener: (kioskId: string, boot: BootRequest) => void): void {
    this.on('booted', listener);
  }

  /** Records a command in a transaction of its own: see CommandDispatcher.sendCommand. */
  sendCommand<A extends HubToKioskAction>(
    kioskId: string,
    action: A,
    payload: CommandInput<A>,
    deadline: Date,
  ): Promise<CommandRecord> {
    return this.commands.sendCommand(kioskId, action, payload, deadline);
  }

  /** See CommandDispatcher.waitFor. */
  waitFor(
    commandId: string,
    opts?: { until?: readonly CommandState[]; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<CommandRecord> {
    return this.commands.waitFor(commandId, opts);
  }

  /** True while this process holds a socket of the kiosk (Booted or not yet). */
  isConnected(kioskId: string): boolean {
    return this.sessions.has(kioskId);
  }

  /**
   * True once the kiosk's socket here has Booted: its Boot is recorded (the kiosk online and
   * claimed by this process). A socket not Booted yet is connected but not booted; a kiosk that
   * never Booted is not watched by the alerts' offline rule.
   */
  isBooted(kioskId: string): boolean {
    return this.sessions.get(kioskId)?.ready === true;
  }

  /** See KioskCommands.connectedInCluster. */
  connectedInCluster(k: Pick<KioskRecord, 'id' | 'status' | 'hubProcess'>): boolean {
    if (this.sessions.has(k.id)) return true;
    return this.cluster.shared && k.status === 'online' && k.hubProcess !== null;
  }

  /**
   * Milliseconds since kiosk `k` was last heard from (`lastSeenAt`: connect, Boot, Heartbeat,
   * disconnect), by the hub's clock; a kiosk not heard from since this hub started counts
   * from the start.
   */
  silentForMs(k: Pick<KioskRecord, 'lastSeenAt'>): number {
    const seen = k.lastSeenAt ? Date.parse(k.lastSeenAt) : 0;
    return this.now().getTime() - Math.max(seen, this.startedAtMs);
  }

  /**
   * Whether kiosk `k` can serve a renter now: connected to this hub with an accepted Boot (only
   * then does it get commands) and heard from within 3 heartbeat intervals (a link that stays
   * open but carries no Heartbeat counts as down).
   */
  canServe(k: Pick<KioskRecord, 'id' | 'lastSeenAt' | 'status' | 'hubProcess'>): boolean {
    const here = this.sessions.get(k.id);
    const connected = here
      ? here.ready
      : this.cluster.shared && k.status === 'online' && k.hubProcess !== null;
    return connected && this.silentForMs(k) <= 3 * this.deps.heartbeatIntervalSeconds * 1000;
  }

  get connectedCount(): number {
    return this.sessions.size;
  }

  /** Closes a kiosk's session, if any. */
  disconnect(kioskId: string, code: number, reason: string): void {
    const s = this.sessions.get(kioskId);
    if (s) s.close(code, reason);
    for (const n of this.newcomers) if (n.kioskId === kioskId) n.close(code, reason);
  }

  /** HTTP upgrade handler for the server's 'upgrade' event. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', ignoreError);
    void this.upgrade(req, socket, head).catch((err) => {
      this.deps.logger.error({ err }, 'upgrade failed');
      this.deps.metrics.error('upgrade');
      rejectUpgrade(socket, 503);
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/kiosk') return rejectUpgrade(socket, 404);
    if (this.stopping) return rejectUpgrade(socket, 503);
    if (!offersSubprotocol(req, SUBPROTOCOL)) return rejectUpgrade(socket, 400);
    const creds = parseBasicAuth(req);
    let epoch = creds && this.secretEpoch(creds.kioskId);
    const fresh = () => creds !== undefined && this.secretEpoch(creds.kioskId) === epoch;
    let valid = creds !== undefined;
    // A replacement or a revocation announced while the check ran (by this process or, later
    // than its commit, by another) makes the check run again against the committed secret:
    // the old one fails.
    for (let tries = 0; creds && valid && tries < 3; tries++) {
      epoch = this.secretEpoch(creds.kioskId);
      const admitted = await this.admit(
        this.admission.upgrades,
        () => this.deps.registry.authenticate(creds.kioskId, creds.secret),
        socket,
      );
      // Not admitted in time (a storm): turned away, the kiosk retries after its backoff.
      if (admitted === TURNED_AWAY) {
        this.deps.metrics.error('admission');
        return rejectUpgrade(socket, 503);
      }
      valid = admitted;
      if (fresh()) break;
    }
    if (!creds || !valid || !fresh()) {
      this.deps.metrics.error('auth');
      const remote = this.deps.clientAddress?.(req) ?? req.socket.remoteAddress;
      this.deps.logger.info({ remote }, 'kiosk authentication failed');
      return rejectUpgrade(socket, 401);
    }
    if (socket.destroyed) return;
    if (this.stopping) return rejectUpgrade(socket, 503);
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      // ws listens for the socket's errors now. Left on, this listener would make the socket's
      // 'error' entry an array of two for the connection's life (before it was one function
      // per upgrade: with its context and the array ~170 bytes a kiosk).
      socket.off('error', ignoreError);
      // The secret was replaced (or the kiosk revoked) while the handshake completed: this
      // connection used the old credentials (a revoked kiosk learns it at its next try: 401).
      if (!fresh()) return ws.close(CLOSE_SECRET_REPLACED, 'secret replaced');
      this.attach(creds.kioskId, ws, hashSecret(creds.secret).toString('base64'));
    });
  }

  /**
   * What every session shares (one per hub, not one per kiosk: a hub holds 10,000 sessions):
   * the handlers of the kiosks' calls and the parent of the sessions' loggers (a child itself,
   * so pino gives each kiosk's child only its bindings: a child of the root logger also copies
   * the root's formatters). Made at the first connection.
   */
  private sessionShared: KioskSessionShared | undefined;

  /**
   * Runs `fn` under the admission limit `queue` (KioskHubDeps.admitConcurrency); TURNED_AWAY
   * when it waited longer than admitWaitMs, or `conn` closed while it waited (nothing run).
   */
  private async admit<T>(
    queue: Semaphore,
    fn: () => Promise<T>,
    conn: Pick<EventEmitter, 'once' | 'off'>,
  ): Promise<T | typeof TURNED_AWAY> {
    const give = new AbortController();
    const timer = setTimeout(() => give.abort(TURNED_AWAY), this.deps.admitWaitMs ?? ADMIT_WAIT_MS);
    const closed = () => give.abort(TURNED_AWAY);
    conn.once('close', closed);
    try {
      return await queue.run(fn, give.signal);
    } catch (err) {
      if (err === TURNED_AWAY) return TURNED_AWAY;
      throw err;
    } finally {
      clearTimeout(timer);
      conn.off('close', closed);
    }
  }

  private attach(kioskId: string, ws: WebSocket, secretHash: string): void {
    this.sessionShared ??= this.makeSessionShared();
    const session = new KioskSession(kioskId, ws, this.sessionShared);
    session.secretHash = secretHash;
    // The kiosk's session, if any, is replaced when this connection Boots (see newcomers).
    if (this.sessions.has(kioskId)) this.newcomers.add(session);
    else this.sessions.set(kioskId, session);
    // The connection's time, taken once: its Boot claims the kiosk for this process with it
    // (the newest connection wins, in the Boot's statement: see KioskRepo.recordBoot).
    session.connectedAt = this.now().toISOString();
    this.sessionOf.set(ws, session);
    const on = this.socketListeners;
    ws.on('message', on.message).on('pong', on.pong).on('error', on.error).on('close', on.close);
    // Through the parent: the session's own logger is made only when the session first logs.
    this.sessionShared.logger.info({ kioskId }, 'kiosk connected');
  }

  private makeSessionShared(): KioskSessionShared {
    const logger = this.deps.logger.child({});
    const handlers = kioskMessageHandlers({
      store: this.deps.store,
      logger,
      hubProcess: this.cluster.processId,
      touch: (id, at) => this.touches.touch(id, at),
      admit: async (s, fn) => {
        const r = await this.admit(this.admission.boots, fn, s.ws);
        if (r !== TURNED_AWAY) return r;
        this.deps.metrics.error('admission');
        // 1013 Try Again Later: the kiosk reconnects after its backoff (with jitter). Closed only
        // after the CALLERROR below is written (the peer answers within this turn's microtasks;
        // a closed peer would send nothing).
        setImmediate(() => s.close(CLOSE_TRY_AGAIN, 'hub busy: try again later'));
        throw new CallError('GenericError', 'the hub is busy: reconnect later');
      },
      booting: (s) => {
        // A closed one is not (its close listener forgets it).
        if (!s.open || !this.newcomers.delete(s)) return;
        const old = this.sessions.get(s.kioskId);
        this.sessions.set(s.kioskId, s);
        if (old) {
          s.logger.info('new connection replaces the old one');
          old.close(CLOSE_REPLACED, 'replaced');
        }
      },
      claimed: (id, first) => {
        // The other processes close an older socket of the kiosk (4001), after this commit.
        this.sessionBatch.add(id);
        if (first) this.emit('online', id);
        this.emit('fleetChange', id);
      },
      replaced: (s) => {
        // Another process recorded a later connection of this kiosk: this socket is the older
        // one (the newest wins, as in closeIfReplaced).
        if (this.sessions.get(s.kioskId) === s) s.close(CLOSE_REPLACED, 'replaced');
      },
      metrics: this.deps.metrics,
      heartbeatIntervalSeconds: this.deps.heartbeatIntervalSeconds,
      now: () => this.now(),
      commands: this.commands,
      events: this.events,
      inventoryArrived: (id) => {
        this.inventoryAsked.delete(id);
        this.fleetChanged(id);
      },
      booted: (id, boot) => {
        this.emit('booted', id, boot);
        // Its software version and features show in the fleet view.
        this.fleetChanged(id);
      },
    });
    return {
      logger,
      handlers,
      maxMessageBytes: this.deps.maxPayloadBytes,
      callTimeoutMs: this.deps.commandCallTimeoutMs,
      protocolError: () => this.deps.metrics.error('protocol'),
    };
  }

  /**
   * The listeners of every kiosk socket (`this`: the socket). Shared by all sessions: a hub
   * holds 10,000 sockets, and four closures each cost ~300 bytes a kiosk.
   */
  private makeSocketListeners() {
    const sessionOf = (ws: WebSocket) => this.sessionOf.get(ws);
    const received = (session: KioskSession, data: RawData, isBinary: boolean) => {
      session.alive = true;
      if (isBinary) {
        this.deps.metrics.error('protocol');
        return;
      }
      session.peer.receive(data as Buffer);
    };
    const failed = (session: KioskSession | undefined, err: Error) => {
      this.deps.metrics.error('socket');
      session?.logger.warn({ err: err.message }, 'kiosk socket error');
    };
    const closed = (session: KioskSession, code: number) => {
      const { kioskId, logger } = session;
      session.markClosed('socket closed');
      if (this.newcomers.delete(session) || this.sessions.get(kioskId) !== session) return;
      // A newer connection not Booted yet takes the session's place (as if it had replaced it).
      let next: KioskSession | undefined;
      for (const n of this.newcomers) if (n.kioskId === kioskId) next = n;
      if (next) {
        this.newcomers.delete(next);
        this.sessions.set(kioskId, next);
        logger.info({ code }, 'kiosk connection closed; its newer connection stays');
        this.emit('fleetChange', kioskId);
        return;
      }
      this.sessions.delete(kioskId);
      logger.info({ code }, 'kiosk disconnected');
      this.emit('offline', kioskId);
      this.emit('fleetChange', kioskId);
      void this.deps.store
        .transaction(
          (tx) =>
            tx.kiosks.setOffline(
              kioskId,
              this.now().toISOString(),
              this.cluster.processId,
              session.connectedAt || undefined,
            ),
          { isolation: 'autocommit' },
        )
        // The other processes read the row: told once it says offline.
        .then((applied) => applied && this.fleetBatch.add(kioskId))
        .catch((err) => {
          if (!this.stopping) logger.error({ err }, 'could not record offline');
        });
    };
    return {
      message(this: WebSocket, data: RawData, isBinary: boolean) {
        const session = sessionOf(this);
        if (session) received(session, data, isBinary);
      },
      pong(this: WebSocket) {
        const session = sessionOf(this);
        if (session) session.alive = true;
      },
      error(this: WebSocket, err: Error) {
        failed(sessionOf(this), err);
      },
      close(this: WebSocket, code: number) {
        const session = sessionOf(this);
        if (session) closed(session, code);
      },
    };
  }

  private pingAll(): void {
    for (const s of [...this.sessions.values(), ...this.newcomers]) {
      if (!s.alive) {
        this.deps.logger.warn(
          { kioskId: s.kioskId },
          'kiosk missed a pong: dropping the connection',
        );
        this.deps.metrics.error('liveness');
        s.terminate('liveness timeout');
        continue;
      }
      s.alive = false;
      try {
        s.ws.ping();
      } catch {
        s.terminate('ping failed');
      }
    }
  }
}

/**
 * Whether the registry's claim of a kiosk by another process (its connection's time,
 * `claim.connectedAt`) replaces a session here that connected at `connectedAt`: yes unless
 * the session here is strictly newer. At equal times the claim, committed last, wins (as
 * KioskRepo.recordBoot lets it); a claim or a session without a time replaces / is replaced.
 */
function claimReplaces(claim: Pick<KioskRecord, 'connectedAt'>, connectedAt: string): boolean {
  return claim.connectedAt === null || connectedAt === '' || connectedAt <= claim.connectedAt;
}
