import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  type BootRequest,
  CallError,
  type EventRequest,
  type HubToKioskAction,
  type InventoryRequest,
  type RequestOf,
  type ResponseOf,
  RpcPeer,
  SUBPROTOCOL,
} from '../../protocol/index.js';

/** How the test hub answers `Event` calls. */
export type EventMode = 'ack' | 'refuse' | 'ignore';

export interface TestHubPeerOptions {
  /** kioskId -> secret accepted on the upgrade. */
  kiosks: Record<string, string>;
  /** heartbeatInterval given in Boot answers (s). Default 60. */
  heartbeatInterval?: number;
  /** The hub's clock. Default Date.now. */
  now?: () => number;
  /** Called for every Event received (before answering); may drop() the link etc. */
  onEvent?: (ev: EventRequest, hub: TestHubPeer) => void;
  /** Called for every Boot before it is recorded; throw (a CallError) to refuse it. */
  bootCheck?: (boot: BootRequest) => void;
}

/**
 * A stand-in hub for kioskd tests: a real `ws` server on an ephemeral loopback port that
 * authenticates Basic auth on the upgrade (401/400 like the real hub), speaks protocol/
 * through RpcPeer in the hub role, answers Boot/Heartbeat/Inventory/Event, and records
 * everything. It can send commands and raw text, drop the connection, refuse or ignore
 * events, and restart on the same port.
 */
export class TestHubPeer {
  readonly boots: BootRequest[] = [];
  readonly inventories: InventoryRequest[] = [];
  /** Every Event received, repeats included, in arrival order. */
  readonly events: EventRequest[] = [];
  /** eventIds the hub acknowledged (CALLRESULT sent). */
  readonly acked = new Set<string>();
  /** Every raw text message received from kiosks. */
  readonly received: string[] = [];
  heartbeats = 0;
  connections = 0;
  rejectedUpgrades = 0;
  eventMode: EventMode = 'ack';
  /** While true, incoming messages are ignored (a hung hub; ws still answers pings). */
  mute = false;
  heartbeatInterval: number;
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;
  private port = 0;
  private current: { ws: WebSocket; peer: RpcPeer<'hub'> } | null = null;

  constructor(private readonly opts: TestHubPeerOptions) {
    this.heartbeatInterval = opts.heartbeatInterval ?? 60;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/kiosk`;
  }

  get connected(): boolean {
    return this.current !== null;
  }

  /** Listens (port 0 the first time, the same port after a restart). */
  async start(): Promise<void> {
    const wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    const server = createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket, head) => this.upgrade(wss, req, socket, head));
    wss.on('connection', (ws) => this.attach(ws));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.wss = wss;
  }

  /** Closes every connection and the listener. */
  async close(): Promise<void> {
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    this.wss?.close();
    const server = this.server;
    this.server = null;
    this.wss = null;
    this.current = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** A hub restart: everything closed, then listening again on the same port. */
  async restart(): Promise<void> {
    await this.close();
    await this.start();
  }

  /** Cuts the current kiosk connection without a close handshake. */
  drop(): void {
    this.current?.ws.terminate();
    this.current = null;
  }

  /** Sends a command to the connected kiosk and resolves with its answer. */
  call<A extends HubToKioskAction>(
    action: A,
    payload: RequestOf<A>,
    timeoutMs = 5000,
  ): Promise<ResponseOf<A>> {
    if (!this.current) throw new Error('test hub: no kiosk connected');
    return this.current.peer.call(action, payload, { timeoutMs });
  }

  /** Sends raw text to the connected kiosk (malformed-frame tests). */
  sendRaw(text: string): void {
    if (!this.current) throw new Error('test hub: no kiosk connected');
    this.current.ws.send(text);
  }

  /** Resolves once `cond()` holds; rejects after `timeoutMs` naming `what`. */
  async waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`test hub: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A refused client may reset the connection before our answer is flushed (ECONNRESET);
    // like the real hub, never let that surface as an uncaught error.
    socket.on('error', () => undefined);
    const refuse = (status: number, text: string) => {
      this.rejectedUpgrades++;
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!protocols.includes(SUBPROTOCOL)) {
      refuse(400, 'Bad Request');
      return;
    }
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
    const [id, ...rest] = m ? Buffer.from(m[1]!, 'base64').toString().split(':') : [];
    const secret = rest.join(':');
    if (!id || this.opts.kiosks[id] === undefined || this.opts.kiosks[id] !== secret) {
      refuse(401, 'Unauthorized');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  }

  private attach(ws: WebSocket): void {
    this.current?.ws.close(4001, 'replaced');
    const peer = new RpcPeer({ role: 'hub', send: (t) => ws.send(t), callTimeoutMs: 5000 });
    const now = () => new Date((this.opts.now ?? Date.now)()).toISOString();
    peer.handle('Boot', (p) => {
      this.opts.bootCheck?.(p);
      this.boots.push(p);
      return { status: 'Accepted', currentTime: now(), heartbeatInterval: this.heartbeatInterval };
    });
    peer.handle('Heartbeat', () => {
      this.heartbeats++;
      return { currentTime: now() };
    });
    peer.handle('Inventory', (p) => {
      this.inventories.push(p);
      return {};
    });
    peer.handle('Event', (ev) => {
      this.events.push(ev);
      this.opts.onEvent?.(ev, this);
      if (this.current?.ws !== ws) return new Promise<never>(() => {}); // dropped: no answer
      if (this.eventMode === 'refuse') throw new CallError('GenericError', 'test hub refuses');
      if (this.eventMode === 'ignore') return new Promise<never>(() => {});
      this.acked.add(ev.eventId);
      return {};
    });
    ws.on('message', (data) => {
      this.received.push(data.toString());
      if (this.mute) return;
      peer.receive(data as Buffer);
    });
    ws.on('close', () => {
      peer.close('socket closed');
      if (this.current?.ws === ws) this.current = null;
    });
    this.current = { ws, peer };
    this.connections++;
  }
}
