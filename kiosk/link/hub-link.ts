import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket, { type ClientOptions } from 'ws';
import {
  type BootRequest,
  type BootResponse,
  type HeartbeatRequest,
  HUB_TO_KIOSK_ACTIONS,
  type InventoryRequest,
  RpcError,
  RpcPeer,
  SUBPROTOCOL,
} from '../../protocol/index.js';
import type { KioskLogger } from '../log.js';
import type { HubClock } from '../state/clock.js';
import type { Inbox } from '../state/inbox.js';
import type { Outbox } from '../state/outbox.js';
import { fullJitterDelay } from './backoff.js';
import { type CommandDispatcher, CommandGate } from './command-gate.js';

export interface HubLinkConfig {
  /** `ws(s)://host/kiosk`. */
  url: string;
  /**
   * Further hub processes' URLs (several hub processes without a load balancer): after a
   * connection attempt that ends without an accepted Boot, the next URL in `[url, ...urls]` is
   * tried, after the usual backoff delay; a link that was up is first re-tried on its URL.
   */
  urls?: readonly string[];
  kioskId: string;
  secret: string;
  /** Heartbeat interval until Boot's answer names one (s). Default 60. */
  heartbeatFallbackSeconds?: number;
  /** Timeout of each call to the hub (ms). Default 30000. */
  callTimeoutMs?: number;
  /** Events in flight at once while draining. Default 1. */
  eventWindow?: number;
  /** Reconnect backoff (full jitter). Defaults 1000 / 60000 / 60000. */
  backoff?: { baseMs: number; capMs: number; stableMs: number };
  /** No message or ping from the hub for this long = dead link. Default 3 heartbeats. */
  deadAfterMs?: number;
  /** Extra `ws` client options (TLS CA, handshake timeout, ...). */
  wsOptions?: ClientOptions;
}

export interface HubLinkDeps {
  config: HubLinkConfig;
  outbox: Outbox;
  inbox: Inbox;
  clock: HubClock;
  log: KioskLogger;
  /** Runs hub commands; the link puts the inbox in front of it (see CommandGate). */
  dispatch: CommandDispatcher;
  /** Fields of the Boot sent on each connect (kioskId is added). */
  boot: () => Omit<BootRequest, 'kioskId'>;
  /** What each Heartbeat carries (configuration state, cache use); default `{}`. */
  heartbeat?: () => HeartbeatRequest;
  /** The full slot snapshot sent after Boot and on TriggerMessage Inventory. */
  inventory: () => InventoryRequest | Promise<InventoryRequest>;
  /** Random source for jitter (tests). */
  random?: () => number;
}

export type HubLinkState = 'stopped' | 'connecting' | 'connected' | 'backoff';

export interface HubLinkStatus {
  state: HubLinkState;
  connected: boolean;
  /** Last successful Boot/Heartbeat (hub time, ISO) or null. */
  lastSync: string | null;
  clockOffsetMs: number;
  outboxDepth: number;
  heartbeatIntervalSeconds: number;
  /** Successful connections since start(). */
  connects: number;
  lastError: string | null;
  /** The hub URL connected to, or tried next. */
  url: string;
}

interface Session {
  ws: WebSocket;
  peer: RpcPeer<'kiosk'>;
  open: boolean;
  closed: Promise<void>;
  wake: () => Promise<void>;
  bootedAt: number | null;
  /**
   * The hub refused Boot's `features` (a hub older than feature negotiation): Boots on this
   * connection leave them out, and that hub sends what it always sent.
   */
  bootWithoutFeatures?: boolean;
  /** Aborted when the socket closes: cancels the session's timers. */
  ended: AbortController;
}

/** A CALLERROR to Boot naming its `features` field: the hub's Boot schema does not have it. */
function refusesFeatures(err: unknown): boolean {
  return (
    err instanceof RpcError &&
    err.code === 'ECALLERROR' &&
    err.errorCode === 'FormatViolation' &&
    /\/features\b/.test(err.message)
  );
}

const DEFAULT_BACKOFF = { baseMs: 1000, capMs: 60_000, stableMs: 60_000 };

/**
 * The kiosk side of the hub link: a reconnecting WebSocket client. On each connect it
 * sends Boot (adopting the hub's clock and heartbeat interval), starts Heartbeats, sends
 * Inventory, then drains the outbox in seq order, deleting each event only after the hub
 * acknowledged it; a new outbox append wakes the drain. Hub commands go through the inbox
 * to the dispatcher. A dead link (no traffic for deadAfterMs, or a failed Heartbeat) is
 * dropped; reconnects use exponential backoff with full jitter, reset after a stable
 * connection.
 *
 * Events: 'connected', 'disconnected' ({ code, reason }), 'synced' (Boot + Inventory done),
 * 'drained' (outbox empty), 'error' is never emitted (failures are logged and in status).
 */
export class HubLink extends EventEmitter {
  private running = false;
  private state: HubLinkState = 'stopped';
  private session: Session | null = null;
  private dialing: WebSocket | null = null;
  private loop: Promise<void> | null = null;
  private abort: AbortController | null = null;
  private heartbeatS: number;
  private connects = 0;
  private lastError: string | null = null;
  /** Index in `[url, ...urls]` of the hub connected to or tried next. */
  private urlIndex = 0;
  private readonly gate: CommandGate;
  private readonly log: KioskLogger;
  private readonly onAppend = () => this.wakeAll();
  private wakers: Array<() => void> = [];

  constructor(private readonly deps: HubLinkDeps) {
    super();
    this.log = deps.log.child({ component: 'hub-link' });
    this.heartbeatS = deps.config.heartbeatFallbackSeconds ?? 60;
    this.gate = new CommandGate({ inbox: deps.inbox, dispatch: deps.dispatch, log: this.log });
  }

  private wakeAll(): void {
    for (const w of this.wakers.splice(0)) w();
  }

  /** Starts connecting (returns at once; the link keeps reconnecting until stop()). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.deps.outbox.on('appended', this.onAppend);
    this.loop = this.run(this.abort.signal);
  }

  /** Closes the connection and stops reconnecting; resolves once the socket is closed. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.deps.outbox.off('appended', this.onAppend);
    this.abort?.abort();
    this.dialing?.terminate();
    this.session?.ws.close(1000, 'kiosk stopping');
    const s = this.session;
    if (s) {
      const timer = setTimeout(() => s.ws.terminate(), 2000);
      await s.closed;
      clearTimeout(timer);
    }
    await this.loop;
    this.state = 'stopped';
  }

  get status(): HubLinkStatus {
    return {
      state: this.state,
      connected: this.state === 'connected',
      lastSync: this.deps.clock.lastSync,
      clockOffsetMs: this.deps.clock.offset,
      outboxDepth: this.deps.outbox.depth(),
      heartbeatIntervalSeconds: this.heartbeatS,
      connects: this.connects,
      lastError: this.lastError,
      url: this.currentUrl,
    };
  }

  /**
   * Sends Boot, Heartbeat or Inventory now (TriggerMessage). Rejects with RpcError
   * (ECLOSED when not connected, ETIMEOUT, ...). Times out after callTimeoutMs.
   */
  async trigger(message: 'Boot' | 'Heartbeat' | 'Inventory'): Promise<void> {
    const s = this.session;
    if (!s?.open) {
      throw new RpcError(
        'ECLOSED',
        `${message} not sent: the hub link is down; it reconnects by itself`,
        {
          action: message,
        },
      );
    }
    if (message === 'Boot') await this.sendBoot(s);
    else if (message === 'Heartbeat') await this.sendHeartbeat(s);
    else await s.peer.call('Inventory', await this.deps.inventory());
  }

  /** `[url, ...urls]` without repeats. */
  private get hubUrls(): string[] {
    const { url, urls = [] } = this.deps.config;
    return [...new Set([url, ...urls])];
  }

  private get currentUrl(): string {
    const urls = this.hubUrls;
    return urls[this.urlIndex % urls.length]!;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const backoff = this.deps.config.backoff ?? DEFAULT_BACKOFF;
    let attempt = 0;
    while (this.running) {
      this.state = 'connecting';
      let stable = false;
      let booted = false;
      try {
        const bootedAt = await this.connectOnce(this.currentUrl);
        booted = bootedAt !== null;
        stable = booted && Date.now() - bootedAt! >= backoff.stableMs;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.log.warn({ err: (err as Error).message }, 'hub connection failed');
      }
      if (!this.running) break;
      // A hub that failed us: the next one is tried (a link that was up: its own hub again first).
      if (!booted && this.hubUrls.length > 1) {
        this.urlIndex = (this.urlIndex + 1) % this.hubUrls.length;
        this.log.info({ url: this.currentUrl }, 'trying the next hub URL');
      }
      if (stable) attempt = 0;
      const delay = fullJitterDelay(attempt++, backoff, this.deps.random);
      this.state = 'backoff';
      this.log.info({ delayMs: delay, attempt }, 'reconnecting to the hub after a delay');
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        break; // stopped
      }
    }
  }

  /** One connection from dial to close. Resolves with the Boot time (null if never booted). */
  private connectOnce(url: string): Promise<number | null> {
    const { config } = this.deps;
    const auth = Buffer.from(`${config.kioskId}:${config.secret}`).toString('base64');
    const ws = new WebSocket(url, SUBPROTOCOL, {
      handshakeTimeout: config.callTimeoutMs ?? 30_000,
      ...config.wsOptions,
      headers: { ...config.wsOptions?.headers, Authorization: `Basic ${auth}` },
    });
    this.dialing = ws;
    return new Promise((resolve, reject) => {
      let opened = false;
      ws.once('close', () => {
        if (this.dialing === ws) this.dialing = null;
        if (!opened) reject(new Error(`connection to ${url} closed before it opened`));
      });
      ws.on('unexpected-response', (_req, res) => {
        const hint = res.statusCode === 401 ? ' (check kiosk id and secret; re-enrol?)' : '';
        ws.terminate();
        reject(new Error(`hub refused the connection: HTTP ${res.statusCode}${hint}`));
      });
      ws.on('error', (err) => {
        if (!opened) reject(new Error(`cannot connect to ${url}: ${err.message}`));
        else this.log.warn({ err: err.message }, 'hub socket error');
      });
      ws.once('open', () => {
        opened = true;
        this.dialing = null;
        const s = this.openSession(ws);
        s.closed.then(() => resolve(s.bootedAt));
      });
    });
  }

  private openSession(ws: WebSocket): Session {
    const { config } = this.deps;
    const peer = new RpcPeer({
      role: 'kiosk',
      send: (text) => ws.send(text),
      callTimeoutMs: config.callTimeoutMs ?? 30_000,
      logger: this.log,
    });
    let lastSeen = Date.now();
    const s: Session = {
      ws,
      peer,
      open: true,
      bootedAt: null,
      ended: new AbortController(),
      closed: new Promise((resolve) => {
        ws.once('close', (code, reason) => {
          s.open = false;
          s.ended.abort();
          peer.close(`socket closed ${code}`);
          clearInterval(watchdog);
          this.wakeAll();
          if (this.session === s) this.session = null;
          if (this.state === 'connected') this.state = 'connecting';
          this.log.info({ code, reason: reason.toString() }, 'hub link closed');
          this.emit('disconnected', { code, reason: reason.toString() });
          resolve();
        });
      }),
      wake: () => new Promise((resolve) => this.wakers.push(resolve)),
    };
    ws.on('message', (data) => {
      lastSeen = Date.now();
      peer.receive(data as Buffer);
    });
    ws.on('ping', () => {
      lastSeen = Date.now();
    });
    ws.on('pong', () => {
      lastSeen = Date.now();
    });
    for (const action of HUB_TO_KIOSK_ACTIONS) {
      peer.handle(action, (payload) => this.gate.handle(action, payload as never));
    }
    const watchdog = setInterval(
      () => {
        const limit = config.deadAfterMs ?? this.heartbeatS * 3000;
        if (Date.now() - lastSeen > limit) {
          this.log.warn({ silentMs: Date.now() - lastSeen }, 'hub silent too long; dropping link');
          this.lastError = `no traffic from the hub for ${limit} ms`;
          ws.terminate();
        } else if (s.open) {
          ws.ping(); // a pong (or any traffic) proves the hub is alive
        }
      },
      Math.max(50, Math.min(5000, Math.floor((config.deadAfterMs ?? 15_000) / 3))),
    );
    this.session = s;
    this.state = 'connected';
    this.connects++;
    this.log.info({ url: this.currentUrl }, 'hub link open');
    this.emit('connected');
    this.converse(s).catch((err: unknown) => {
      if (!s.open) return;
      this.lastError = (err as Error).message;
      this.log.warn({ err: (err as Error).message }, 'hub conversation failed; dropping link');
      ws.terminate();
    });
    return s;
  }

  /** Boot -> heartbeats -> Inventory -> drain, for one session. Throws to drop the link. */
  private async converse(s: Session): Promise<void> {
    await this.sendBoot(s);
    s.bootedAt = Date.now();
    void this.heartbeats(s);
    await s.peer.call('Inventory', await this.deps.inventory());
    this.emit('synced');
    await this.drain(s);
  }

  private async sendBoot(s: Session): Promise<void> {
    const sent = Date.now();
    const { features, ...rest } = { ...this.deps.boot(), kioskId: this.deps.config.kioskId };
    let res: BootResponse;
    try {
      res = await s.peer.call(
        'Boot',
        features && !s.bootWithoutFeatures ? { ...rest, features } : rest,
      );
    } catch (err) {
      if (!features || s.bootWithoutFeatures || !refusesFeatures(err)) throw err;
      this.log.warn(
        { err: (err as Error).message },
        'the hub refused Boot.features (it predates protocol feature negotiation): Boot again without them; upgrade the hub',
      );
      s.bootWithoutFeatures = true;
      return this.sendBoot(s);
    }
    this.deps.clock.sync(res.currentTime, sent, Date.now());
    if (res.status !== 'Accepted') {
      throw new Error(`hub rejected Boot${res.reason ? `: ${res.reason}` : ''}`);
    }
    this.heartbeatS = res.heartbeatInterval;
    this.lastError = null;
  }

  private async sendHeartbeat(s: Session): Promise<void> {
    const sent = Date.now();
    const res = await s.peer.call('Heartbeat', this.deps.heartbeat?.() ?? {});
    this.deps.clock.sync(res.currentTime, sent, Date.now());
  }

  private async heartbeats(s: Session): Promise<void> {
    while (s.open) {
      try {
        await sleep(this.heartbeatS * 1000, undefined, { signal: s.ended.signal });
      } catch {
        return; // session ended
      }
      if (!s.open) return;
      try {
        await this.sendHeartbeat(s);
      } catch (err) {
        if (!s.open) return;
        this.lastError = `Heartbeat failed: ${(err as Error).message}`;
        this.log.warn({ err: (err as Error).message }, 'heartbeat failed; dropping link');
        s.ws.terminate();
        return;
      }
    }
  }

  /**
   * Sends outbox events in seq order, up to eventWindow at a time, acking (deleting) each
   * only after the hub's CALLRESULT. A refused event (CALLERROR) pauses the drain and
   * starts again from the lowest unacked event; a lost link ends it.
   */
  private async drain(s: Session): Promise<void> {
    const { outbox, config } = this.deps;
    const window = config.eventWindow ?? 1;
    const backoff = config.backoff ?? DEFAULT_BACKOFF;
    const inflight = new Map<number, Promise<void>>();
    // Outcomes of in-flight calls; stored promises never reject (no unhandled rejections).
    const failed: { refused: RpcError | null; fatal: RpcError | null } = {
      refused: null,
      fatal: null,
    };
    let lastSent = 0;
    let refusals = 0;
    while (s.open) {
      if (failed.fatal) throw failed.fatal;
      if (failed.refused) {
        await Promise.all(inflight.values());
        if (failed.fatal) throw failed.fatal;
        const delay = fullJitterDelay(refusals++, backoff, this.deps.random);
        this.log.warn({ err: failed.refused.message, delayMs: delay }, 'hub refused an event');
        this.lastError = failed.refused.message;
        failed.refused = null;
        lastSent = 0;
        await sleep(delay, undefined, { signal: s.ended.signal }).catch(() => {});
        continue;
      }
      const batch = outbox.peek(window - inflight.size, lastSent);
      for (const ev of batch) {
        lastSent = ev.seq;
        const p = s.peer.call('Event', ev).then(
          () => {
            outbox.ack(ev.seq);
            refusals = 0;
          },
          (err: RpcError) => {
            if (err.code === 'ECALLERROR' || err.code === 'EINVALID') failed.refused ??= err;
            else failed.fatal ??= err;
          },
        );
        inflight.set(
          ev.seq,
          p.finally(() => inflight.delete(ev.seq)),
        );
      }
      if (inflight.size > 0) {
        await Promise.race(inflight.values());
      } else {
        this.emit('drained');
        await s.wake();
      }
    }
  }
}
