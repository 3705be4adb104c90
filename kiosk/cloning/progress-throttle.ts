/** Lets a progress report through on a step change, every `intervalMs`, or every `stepPercent` of the total. */
export class ProgressThrottle {
  private lastAt = 0;
  private lastBytes = -1;
  private lastStep = '';
  constructor(
    private readonly intervalMs = 2000,
    private readonly stepPercent = 5,
    private readonly now: () => number = Date.now,
  ) {}

  pass(step: string, bytesDone: number, bytesTotal: number): boolean {
    const t = this.now();
    const pct = bytesTotal > 0 ? ((bytesDone - this.lastBytes) / bytesTotal) * 100 : 100;
    if (step !== this.lastStep || t - this.lastAt >= this.intervalMs || pct >= this.stepPercent) {
      this.lastAt = t;
      this.lastBytes = bytesDone;
      this.lastStep = step;
      return true;
    }
    return false;
  }
}
