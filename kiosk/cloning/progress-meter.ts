import type { CloneProgress, CloneStep } from './types.js';

/** Rate and ETA for one step, from (bytes, files) samples. */
export class ProgressMeter {
  private readonly started: number;
  constructor(
    readonly step: CloneStep,
    readonly bytesTotal: number,
    readonly filesTotal: number,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  sample(bytesDone: number, filesDone: number): CloneProgress {
    const secs = Math.max(0.001, (this.now() - this.started) / 1000);
    const rateBps = bytesDone / secs;
    const left = Math.max(0, this.bytesTotal - bytesDone);
    return {
      step: this.step,
      bytesDone: Math.min(bytesDone, this.bytesTotal),
      bytesTotal: this.bytesTotal,
      filesDone: Math.min(filesDone, this.filesTotal),
      filesTotal: this.filesTotal,
      rateBps: Math.round(rateBps),
      etaSeconds: rateBps > 0 ? Math.min(1e9, Math.round(left / rateBps)) : 0,
    };
  }
}
