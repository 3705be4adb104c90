/**
 * kioskd's own Prometheus metrics (prom-client), served on a local port for a node-exporter
 * style scrape: slots by state, content cache use, prepare throughput, the hub link. Off unless
 * `metrics.port` is set (the SD image sets 9465); bound to loopback unless `metrics.host` says
 * otherwise (the figures name slots and contents, not secrets, but nobody outside needs them).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../common/prom-defaults.js';
import type { CloneFinished } from '../cloning/index.js';
import type { HubLinkStatus } from '../link/hub-link.js';
import type { KioskLogger } from '../log.js';

export interface KioskMetricsDeps {
  /** Slot states now (the slot store). */
  slotStates: () => string[];
  /** Content cache bytes used and its cap; undefined before the cache started. */
  cache: () => { usedBytes: number; maxBytes: number } | undefined;
  /** The hub link's status; undefined before the link exists. */
  link: () => HubLinkStatus | undefined;
  log: KioskLogger;
  host: string;
  /** 0: any free port (tests). */
  port: number;
}

/**
 * How often the Node.js metrics sample the event loop delay. prom-client's default (10 ms)
 * wakes an idle kioskd 100 times a second, which cost it about 0.4 % of a core on the
 * development machine (bench:kiosk's idle CPU: 0.53 % before, 0.18 % after). Sampled once a
 * second, a stall of the main thread longer than a second is always seen, a shorter one in
 * proportion to its length.
 */
export const EVENT_LOOP_RESOLUTION_MS = 1000;

export class KioskMetrics {
  readonly registry = new Registry();
  private server: Server | undefined;
  private processMetrics = false;
  private readonly prepareBytes: Counter;
  private readonly prepareSeconds: Histogram;
  /** The port actually bound, once started. */
  port = 0;

  constructor(private readonly deps: KioskMetricsDeps) {
    const registers = [this.registry];
    new Gauge({
      name: 'disk_kiosk_kioskd_slots',
      help: 'Slots by state (state="fault": faulted slots).',
      labelNames: ['state'],
      registers,
      collect: function (this: Gauge) {
        this.reset();
        const by = new Map<string, number>();
        for (const s of deps.slotStates()) by.set(s, (by.get(s) ?? 0) + 1);
        for (const [state, n] of by) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'disk_kiosk_kioskd_cache_used_bytes',
      help: 'Bytes held by the content cache (files and block images).',
      registers,
      collect: function (this: Gauge) {
        const c = deps.cache();
        if (c) this.set(c.usedBytes);
      },
    });
    new Gauge({
      name: 'disk_kiosk_kioskd_cache_max_bytes',
      help: 'The content cache cap (content.maxBytes).',
      registers,
      collect: function (this: Gauge) {
        const c = deps.cache();
        if (c) this.set(c.maxBytes);
      },
    });
    this.prepareBytes = new Counter({
      name: 'disk_kiosk_kioskd_prepare_bytes_total',
      help: 'Bytes written and verified by finished disk preparations, by mode (image, file).',
      labelNames: ['mode'],
      registers,
    });
    this.prepareSeconds = new Histogram({
      name: 'disk_kiosk_kioskd_prepare_duration_seconds',
      help: 'Wall time of disk preparations (format, copy, verify), by result.',
      labelNames: ['result'],
      buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400],
      registers,
    });
    new Gauge({
      name: 'disk_kiosk_kioskd_hub_connected',
      help: '1 while the WebSocket link to the hub is up, else 0.',
      registers,
      collect: function (this: Gauge) {
        this.set(deps.link()?.connected ? 1 : 0);
      },
    });
    let connectsSeen = 0;
    new Counter({
      name: 'disk_kiosk_kioskd_hub_connects_total',
      help: 'Connections to the hub made since kioskd started.',
      registers,
      collect: function (this: Counter) {
        const n = deps.link()?.connects ?? 0;
        if (n > connectsSeen) this.inc(n - connectsSeen);
        connectsSeen = Math.max(connectsSeen, n);
      },
    });
    new Gauge({
      name: 'disk_kiosk_kioskd_outbox_events',
      help: 'Events waiting in the outbox for the hub to acknowledge them.',
      registers,
      collect: function (this: Gauge) {
        const l = deps.link();
        if (l) this.set(l.outboxDepth);
      },
    });
    new Gauge({
      name: 'disk_kiosk_kioskd_hub_last_sync_timestamp_seconds',
      help: 'When the hub last gave kioskd its time (Unix time); absent before the first.',
      registers,
      collect: function (this: Gauge) {
        const at = deps.link()?.lastSync;
        this.reset();
        if (at) this.set(Date.parse(at) / 1000);
      },
    });
  }

  /** A disk preparation ended (ClonePipeline's onFinished). */
  cloneFinished(f: CloneFinished): void {
    if (f.ok && f.mode) this.prepareBytes.inc({ mode: f.mode }, f.bytes);
    this.prepareSeconds.observe({ result: f.ok ? 'ok' : 'failed' }, f.seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Listens on `host:port`; GET /metrics answers, anything else 404. The process and
   * Node.js metrics (with their event loop monitor) start here: nobody reads them otherwise.
   */
  async start(): Promise<void> {
    if (!this.processMetrics) {
      collectProcessMetrics(this.registry, 'disk_kiosk_kioskd_', {
        eventLoopResolutionMs: EVENT_LOOP_RESOLUTION_MS,
      });
      this.processMetrics = true;
    }
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      this.render().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) => {
          this.deps.log.warn({ err: err.message }, 'metrics render failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.deps.port, this.deps.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.deps.log.info({ host: this.deps.host, port: this.port }, 'metrics listening');
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
