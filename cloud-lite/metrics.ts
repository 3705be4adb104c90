/**
 * Hub counters and the Prometheus text exposition. Gauges that live elsewhere (connected
 * kiosks, commands by state) are passed to `render`.
 */
export class HubMetrics {
  eventsReceivedTotal = 0;
  private readonly errors = new Map<string, number>();
  /** Events per second over the last `RATE_WINDOW_S` seconds, one bucket per second. */
  private readonly buckets = new Array<number>(60).fill(0);
  private bucketSecond = 0;

  constructor(private readonly now: () => number = Date.now) {}

  eventReceived(): void {
    this.eventsReceivedTotal++;
    this.roll();
    this.buckets[this.bucketSecond % this.buckets.length]! += 1;
  }

  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  errorCount(kind?: string): number {
    if (kind) return this.errors.get(kind) ?? 0;
    let n = 0;
    for (const v of this.errors.values()) n += v;
    return n;
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

  render(g: { connectedKiosks: number; commandsByState: Record<string, number> }): string {
    const lines = [
      '# HELP disk_kiosk_hub_connected_kiosks Kiosks with a live WebSocket session.',
      '# TYPE disk_kiosk_hub_connected_kiosks gauge',
      `disk_kiosk_hub_connected_kiosks ${g.connectedKiosks}`,
      '# HELP disk_kiosk_hub_commands Commands by state.',
      '# TYPE disk_kiosk_hub_commands gauge',
    ];
    for (const state of [
      'pending',
      'sent',
      'accepted',
      'rejected',
      'completed',
      'failed',
      'expired',
    ]) {
      lines.push(`disk_kiosk_hub_commands{state="${state}"} ${g.commandsByState[state] ?? 0}`);
    }
    lines.push(
      '# HELP disk_kiosk_hub_events_received_total Kiosk events recorded (duplicates excluded).',
      '# TYPE disk_kiosk_hub_events_received_total counter',
      `disk_kiosk_hub_events_received_total ${this.eventsReceivedTotal}`,
      '# HELP disk_kiosk_hub_events_per_second Events recorded per second, last minute average.',
      '# TYPE disk_kiosk_hub_events_per_second gauge',
      `disk_kiosk_hub_events_per_second ${this.eventRate().toFixed(3)}`,
      '# HELP disk_kiosk_hub_errors_total Errors by kind.',
      '# TYPE disk_kiosk_hub_errors_total counter',
    );
    if (this.errors.size === 0) lines.push('disk_kiosk_hub_errors_total{kind="none"} 0');
    for (const [kind, n] of this.errors)
      lines.push(`disk_kiosk_hub_errors_total{kind="${kind}"} ${n}`);
    return `${lines.join('\n')}\n`;
  }
}
