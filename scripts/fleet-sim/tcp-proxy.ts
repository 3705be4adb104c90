/**
 * A TCP proxy between one kiosk and the hub that the simulation controls: `cut(ms)`
 * destroys every open connection and refuses new ones for `ms` (a dead uplink); `stall(ms)`
 * stops forwarding bytes both ways for `ms` without closing anything (a hung link: the
 * sockets stay open, ping/pong must notice). Listens on 127.0.0.1 and a free port.
 */
import net from 'node:net';

export interface TcpProxyOptions {
  targetHost: string;
  /** The hub's port (read at each new connection, so a restarted hub on the same port works). */
  targetPort: number;
}

export class TcpProxy {
  private server: net.Server | undefined;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private cutUntil = 0;
  private stallUntil = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly flushers = new Set<() => void>();
  port = 0;

  constructor(private readonly opts: TcpProxyOptions) {}

  async start(): Promise<number> {
    const server = net.createServer((client) => this.onClient(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  private onClient(client: net.Socket): void {
    client.on('error', () => {});
    if (Date.now() < this.cutUntil) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.opts.targetPort, this.opts.targetHost);
    upstream.on('error', () => {});
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  /** Copies bytes from -> to, holding them back while stalled (flushed in order on heal). */
  private forward(from: net.Socket, to: net.Socket): void {
    const held: Buffer[] = [];
    from.on('data', (d: Buffer) => {
      if (Date.now() < this.stallUntil || held.length > 0) {
        held.push(d);
        this.flushers.add(flush);
      } else to.write(d);
    });
    const flush = () => {
      while (held.length > 0 && !to.destroyed) to.write(held.shift()!);
      held.length = 0;
    };
  }

  /** Destroys every connection and refuses new ones for `ms`. */
  cut(ms: number): void {
    this.cutUntil = Date.now() + ms;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Stops forwarding (both directions, all connections) for `ms`. */
  stall(ms: number): void {
    this.stallUntil = Date.now() + ms;
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.heal(), ms);
  }

  /** Ends any cut or stall at once. */
  heal(): void {
    this.cutUntil = 0;
    this.stallUntil = 0;
    clearTimeout(this.stallTimer);
    const fs = [...this.flushers];
    this.flushers.clear();
    for (const f of fs) f();
  }

  async stop(): Promise<void> {
    this.heal();
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
