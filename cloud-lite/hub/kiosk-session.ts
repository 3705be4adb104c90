import type WebSocket from 'ws';
import {
  type Handler,
  type HubToKioskAction,
  type KioskToHubAction,
  kioskFeatures,
  RpcPeer,
  type RpcPeerOptions,
} from '../../protocol/index.js';
import type { Logger } from '../log.js';
import type { CommandChannel } from './types.js';

/** The hub's answers to the kiosks' own calls, by action (hub/kiosk-messages.ts). */
export type KioskCallHandlers = Record<
  KioskToHubAction,
  (session: KioskSession, payload: never) => Promise<unknown>
>;

/** What a hub's sessions share (one object per hub, not per kiosk). */
export interface KioskSessionShared {
  /** The parent of the sessions' loggers: each session's child binds its kioskId. */
  logger: Logger;
  /** The answers to the kiosks' own calls (kioskMessageHandlers). */
  handlers: KioskCallHandlers;
  maxMessageBytes: number;
  callTimeoutMs: number;
  /** Told of every frame a kiosk sent that its peer refused (RpcPeerOptions.protocolError). */
  protocolError(): void;
}

/**
 * One live kiosk connection: the socket, its RpcPeer (role hub) and liveness flags. Implements
 * the dispatcher's CommandChannel. It is its peer's options too (role, send, limits, logger,
 * the handlers of the kiosk's calls: getters and methods on the prototype), so a session makes
 * no options object, no closures and no handler table of its own, and its logger only when it
 * first logs: a hub holds one session per connected kiosk.
 */
export class KioskSession implements CommandChannel, RpcPeerOptions<'hub'> {
  readonly peer: RpcPeer<'hub'>;
  private inFlightIds: Set<string> | undefined;
  /**
   * Set by an accepted Boot, cleared by a rejected one: until then the kiosk may send only
   * Boot, and gets no commands.
   */
  ready = false;
  /** The slot count of the accepted Boot (Inventory is checked against it). */
  slotCount: number | undefined;
  /** The protocol features of the accepted Boot (the baseline until one listed others). */
  features: ReadonlySet<string> = kioskFeatures(undefined);
  /** When the connection was attached (ISO time): its Boot claims the kiosk with it. */
  connectedAt = '';
  /**
   * The hash (base64) of the secret the connection authenticated with: another process's
   * announcement of a replaced secret closes it only if that is no longer the kiosk's.
   */
  secretHash = '';
  /**
   * A command for this kiosk found the session not ready yet (before its accepted Boot): the
   * Boot re-sends outstanding commands even if its own statement saw none.
   */
  commandsWaiting = false;
  /** Cleared at each ping, set by pong or any message. */
  alive = true;
  private closed = false;
  /**
   * What this connection's kiosk last reported and was recorded (configuration and cache
   * keys, see kiosk-messages.ts): unchanged reports are not written again. Two fields, not an
   * object of their own (~60 bytes a kiosk).
   */
  reportedConfig: string | undefined = undefined;
  reportedCache: string | undefined = undefined;
  /** The kiosk's logger, made at its first use (most idle sessions never log). */
  private log: Logger | undefined;

  constructor(
    readonly kioskId: string,
    private readonly socket: WebSocket,
    private readonly shared: KioskSessionShared,
  ) {
    this.peer = new RpcPeer(this);
  }

  get role(): 'hub' {
    return 'hub';
  }

  /** Sends one text frame while the socket is open (RpcPeer's transport). */
  send(text: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(text);
  }

  get callTimeoutMs(): number {
    return this.shared.callTimeoutMs;
  }

  get maxMessageBytes(): number {
    return this.shared.maxMessageBytes;
  }

  /** The peer's handler of a kiosk's call: the hub's shared one, given this session. */
  handler(action: KioskToHubAction): Handler<KioskToHubAction> | undefined {
    if (!Object.hasOwn(this.shared.handlers, action)) return undefined;
    const h = this.shared.handlers[action];
    return (payload) => h(this, payload as never) as never;
  }

  /** A refused frame of the kiosk's (the peer logged it): the hub counts it. */
  protocolError(): void {
    this.shared.protocolError();
  }

  /** Commands being sent on this connection; made at the first (most sessions idle). */
  get inFlight(): Set<string> {
    this.inFlightIds ??= new Set();
    return this.inFlightIds;
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  get ws(): WebSocket {
    return this.socket;
  }

  /** The kiosk's logger (its id bound). */
  get logger(): Logger {
    this.log ??= this.shared.logger.child({ kioskId: this.kioskId });
    return this.log;
  }

  call(
    action: HubToKioskAction,
    payload: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<unknown> {
    // biome-ignore lint/suspicious/noExplicitAny: payload was validated when the command was built
    return this.peer.call(action, payload as any, { timeoutMs });
  }

  /** Closes the socket with `code` (idempotent); pending calls reject with ECLOSED. */
  close(code: number, reason: string): void {
    this.markClosed(reason);
    try {
      this.socket.close(code, reason);
    } catch {
      this.socket.terminate();
    }
  }

  /** Drops the socket without a close handshake (dead link). */
  terminate(reason: string): void {
    this.markClosed(reason);
    this.socket.terminate();
  }

  markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    this.peer.close(reason);
  }
}
