import type WebSocket from 'ws';
import {
  type HubToKioskAction,
  kioskFeatures,
  RpcPeer,
  type RpcPeerOptions,
} from '../../protocol/index.js';
import type { Logger } from '../log.js';
import type { CommandChannel } from './types.js';

export interface KioskSessionDeps {
  kioskId: string;
  ws: WebSocket;
  logger: Logger;
  maxMessageBytes: number;
  callTimeoutMs: number;
}

/**
 * One live kiosk connection: the socket, its RpcPeer (role hub) and liveness flags. The hub
 * registers the kiosk -> hub handlers on `peer`. Implements the dispatcher's CommandChannel.
 * It is its peer's options too (role, send, limits, logger: getters and a method on the
 * prototype), so a session makes no options object and no send closure of its own: a hub holds
 * one session per connected kiosk.
 */
export class KioskSession implements CommandChannel, RpcPeerOptions<'hub'> {
  readonly kioskId: string;
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
   * A command for this kiosk found the session not ready yet (before its accepted Boot): the
   * Boot re-sends outstanding commands even if its own statement saw none.
   */
  commandsWaiting = false;
  /** Cleared at each ping, set by pong or any message. */
  alive = true;
  private closed = false;

  constructor(private readonly deps: KioskSessionDeps) {
    this.kioskId = deps.kioskId;
    this.peer = new RpcPeer(this);
  }

  get role(): 'hub' {
    return 'hub';
  }

  /** Sends one text frame while the socket is open (RpcPeer's transport). */
  send(text: string): void {
    if (this.deps.ws.readyState === this.deps.ws.OPEN) this.deps.ws.send(text);
  }

  get callTimeoutMs(): number {
    return this.deps.callTimeoutMs;
  }

  get maxMessageBytes(): number {
    return this.deps.maxMessageBytes;
  }

  /** Commands being sent on this connection; made at the first (most sessions idle). */
  get inFlight(): Set<string> {
    this.inFlightIds ??= new Set();
    return this.inFlightIds;
  }

  get open(): boolean {
    return !this.closed && this.deps.ws.readyState === this.deps.ws.OPEN;
  }

  get ws(): WebSocket {
    return this.deps.ws;
  }

  /** The kiosk's logger (its id bound). */
  get logger(): Logger {
    return this.deps.logger;
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
      this.deps.ws.close(code, reason);
    } catch {
      this.deps.ws.terminate();
    }
  }

  /** Drops the socket without a close handshake (dead link). */
  terminate(reason: string): void {
    this.markClosed(reason);
    this.deps.ws.terminate();
  }

  markClosed(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ready = false;
    this.peer.close(reason);
  }
}
