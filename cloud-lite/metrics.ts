/**
 * The hub's metrics, with prom-client (the Prometheus project's own Node client: its
 * exposition is what `promtool check metrics` expects, and histograms, process metrics and
 * label escaping come with it). One Registry per HubServer (no global default registry), so
 * several hubs in one test process do not mix their figures.
 *
 * Counters and histograms are fed as things happen (events recorded, errors, command round
 * trips, HTTP requests); fleet gauges (kiosks online and last seen, slots by state, stock per
 * disk type, commands by state) are read from the store at scrape time through `fleet`.
 * Names: base units (seconds, bytes), `_total` for counters, `_seconds` for durations
 * (docs/remote-operations.md lists them all).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../common/prom-defaults.js';
import { COMMAND_STATES } from './store/repos/command-repo.js';

/** The fleet's state at scrape time (server.ts reads it from the store and the catalog). */
export interface FleetSnapshot {
  connectedKiosks: number;
  commandsByState: Record<string, number>;
  kiosks: Array<{ id: string; online: boolean; lastSeenAt: string | null }>;
  /** Slots per kiosk and state (the hub's slot view). */
  slots: Array<{ kioskId: string; state: string; count: number }>;
  /** Disks a kiosk can dispense now, per disk type it offers. */
  stock: Array<{ kioskId: string; diskTypeId: string; count: number }>;
}

/** Alerts by kind and state; the alerts engine registers its source with `setAlertSource`. */
export type AlertCounts = Array<{ kind: string; state: string; count: number }>;

export class HubMetrics {
  readonly registry = new Registry();
  private fleet: (() => Promise<FleetSnapshot>) | undefined;
  private alerts: (() => Promise<AlertCounts>) | undefined;
  private snapshot: Promise<FleetSnapshot> | undefined;
  /** Events per second over the last minute, one bucket per second (the /ops page's figure). */
  private readonly buckets = new Array<number>(60).fill(0);
  private bucketSecond = 0;
  private readonly errorCounts = new Map<string, number>();

  private readonly eventsReceived = new Counter({
    name: 'disk_kiosk_hub_events_received_total',
    help: 'Kiosk events recorded (duplicates excluded).',
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'disk_kiosk_hub_errors_total',
    help: 'Errors by kind.',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly faults = new Counter({
    name: 'disk_kiosk_hub_faults_raised_total',
    help: 'FaultRaised events recorded, by kiosk and fault code.',
    labelNames: ['kiosk', 'code'],
    registers: [this.registry],
  });
  /** roundTrips by `${action} ${outcome}`, labelled once (commandRoundTrip). */
  private readonly roundTripsBy = new Map<string, { observe(seconds: number): void }>();
  private readonly roundTrips = new Histogram({
    name: 'disk_kiosk_hub_command_round_trip_seconds',
    help: 'From sending a command to the kiosk to its answer, by action and outcome.',
    labelNames: ['action', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly http = new Histogram({
    name: 'disk_kiosk_hub_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor(private readonly now: () => number = Date.now) {
    collectProcessMetrics(this.registry, 'disk_kiosk_hub_');
    const fleetGauge = (
      name: string,
      help: string,
      labelNames: string[],
      fill: (g: Gauge, s: FleetSnapshot) => void,
    ) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect: async function (this: Gauge) {
          const s = await self.fleetSnapshot();
          this.reset();
          if (s) fill(this, s);
        },
      });
    const self = this;
    fleetGauge(
      'disk_kiosk_hub_connected_kiosks',
      'Kiosks with a live WebSocket session.',
      [],
      (g, s) => g.set(s.connectedKiosks),
    );
    fleetGauge('disk_kiosk_hub_commands', 'Commands by state.', ['state'], (g, s) => {
      for (const state of COMMAND_STATES) g.set({ state }, s.commandsByState[state] ?? 0);
    });
    fleetGauge(
      'disk_kiosk_hub_kiosk_online',
      '1 when the kiosk is connected to the hub, else 0.',
      ['kiosk'],
      (g, s) => {
        for (const k of s.kiosks) g.set({ kiosk: k.id }, k.online ? 1 : 0);
      },
    );
    fleetGauge(
      'disk_kiosk_hub_kiosk_last_seen_timestamp_seconds',
      'When the hub last heard from the kiosk (Unix time); absent for a kiosk never seen.',
      ['kiosk'],
      (g, s) => {
        for (const k of s.kiosks)
          if (k.lastSeenAt) g.set({ kiosk: k.id }, Date.parse(k.lastSeenAt) / 1000);
      },
    );
    fleetGauge(
      'disk_kiosk_hub_slots',
      'Slots by kiosk and state, as the hub last heard (state="fault": faulted slots).',
      ['kiosk', 'state'],
      (g, s) => {
        for (const r of s.slots) g.set({ kiosk: r.kioskId, state: r.state }, r.count);
      },
    );
    fleetGauge(
      'disk_kiosk_hub_stock_disks',
      'Disks a kiosk can dispense now, per disk type it offers.',
      ['kiosk', 'disk_type'],
      (g, s) => {
        for (const r of s.stock) g.set({ kiosk: r.kioskId, disk_type: r.diskTypeId }, r.count);
      },
    );
    new Gauge({
      name: 'disk_kiosk_hub_events_per_second',
      help: 'Events recorded per second, last minute average (prefer rate(disk_kiosk_hub_events_received_total[1m])).',
      registers: [this.registry],
      collect: function (this: Gauge) {
        this.set(Number(self.eventRate().toFixed(3)));
      },
    });
    new Gauge({
      name: 'disk_kiosk_hub_alerts',
      help: 'Alerts by kind and state (open, acknowledged); empty until an alert source is set.',
      labelNames: ['kind', 'state'],
      registers: [this.registry],
      collect: async function (this: Gauge) {
        this.reset();
        for (const a of (await self.alerts?.()) ?? [])
          this.set({ kind: a.kind, state: a.state }, a.count);
      },
    });
  }

  /** Where fleet gauges come from (server.ts: the store). Without it they stay empty. */
  setFleetSource(fleet: () => Promise<FleetSnapshot>): void {
    this.fleet = fleet;
  }

  /** Where `disk_kiosk_hub_alerts` comes from (the alerts engine). */
  setAlertSource(alerts: () => Promise<AlertCounts>): void {
    this.alerts = alerts;
  }

  /** One store read per scrape, shared by every fleet gauge. */
  private fleetSnapshot(): Promise<FleetSnapshot | undefined> {
    if (!this.fleet) return Promise.resolve(undefined);
    this.snapshot ??= this.fleet().finally(() => {
      this.snapshot = undefined;
    });
    return this.snapshot;
  }

  eventReceived(event?: { kioskId: string; type: string; data: unknown }): void {
    this.eventsReceived.inc();
    this.roll();
    this.buckets[this.bucketSecond % this.buckets.length]! += 1;
    if (event?.type === 'FaultRaised') {
      const code = (event.data as { code?: unknown }).code;
      this.faults.inc({ kiosk: event.kioskId, code: typeof code === 'string' ? code : 'unknown' });
    }
  }

  error(kind: string): void {
    this.errors.inc({ kind });
    this.errorCounts.set(kind, (this.errorCounts.get(kind) ?? 0) + 1);
  }

  /** Errors of one kind (all kinds without `kind`), as counted since start. */
  errorCount(kind?: string): number {
    if (kind) return this.errorCounts.get(kind) ?? 0;
    let n = 0;
    for (const v of this.errorCounts.values()) n += v;
    return n;
  }

  /** A command's answer came `seconds` after it was sent (outcome: completed, accepted, ...). */
  commandRoundTrip(action: string, outcome: string, seconds: number): void {
    // The labelled histogram resolved once per action and outcome, not on every command.
    const key = `${action} ${outcome}`;
    let h = this.roundTripsBy.get(key);
    if (!h) {
      h = this.roundTrips.labels({ action, outcome });
      this.roundTripsBy.set(key, h);
    }
    h.observe(seconds);
  }

  /** An HTTP request finished; `route` is the route pattern (never the raw URL: bounded labels). */
  httpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.http.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  private roll(): void {
    const sec = Math.floor(this.now() / 1000);
    if (this.bucketSecond === 0) this.bucketSecond = sec;
    const steps = Math.min(sec - this.bucketSecond, this.buckets.length);
    for (let i = 1; i <= steps; i++)
      this.buckets[(this.bucketSecond + i) % this.buckets.length] = 0;
    this.bucketSecond = sec;
  }

  /** Events per second averaged over the last minute. */
  eventRate(): number {
    this.roll();
    return this.buckets.reduce((a, b) => a + b, 0) / this.buckets.length;
  }

  /** The Prometheus text exposition (format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
