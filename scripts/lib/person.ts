/**
 * The person in front of the kiosks: takes a disk the board pushed out, pushes a disk into
 * a slot. Acts on the board simulators this process owns (the pty simulators of
 * DemoKiosk), so kioskd sees it through its real serial driver, as on a kiosk.
 */
import type { MotorBoardSim } from '../../hal/motor-board/sim.js';
import { waitFor } from './wait.js';

/** True while a disk sticks out of `slot`, waiting to be taken. */
export function diskIsOut(sim: MotorBoardSim, slot: number): boolean {
  const s = sim.sensors(slot);
  return s.present && !s.seated;
}

/**
 * Waits until the disk sticks out of `slot` (the kiosk ejected it), then takes it.
 * Rejects with ETIMEOUT after `timeoutMs` (default 20 s); nothing is taken then.
 */
export async function takeWhenOut(
  sim: MotorBoardSim,
  slot: number,
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(`the disk to come out of slot ${slot}`, () => diskIsOut(sim, slot), {
    timeoutMs,
    intervalMs: 50,
  });
  sim.takeDisk(slot);
}

export interface AutoTakerOptions {
  /** Boards to watch, by kiosk id. */
  boards: () => Array<{ kioskId: string; sim: MotorBoardSim; slots: number }>;
  /** How long the disk sticks out before the person takes it (default 3000 ms). */
  delayMs?: number;
  onTake?: (kioskId: string, slot: number) => void;
}

/**
 * For the interactive demo: whenever a disk has stuck out of any slot for `delayMs`, the
 * renter takes it. Polls every 200 ms. start()/stop(); stop() cancels pending takes.
 */
export class AutoTaker {
  private timer: NodeJS.Timeout | undefined;
  private readonly seen = new Map<string, number>();

  constructor(private readonly opts: AutoTakerOptions) {}

  start(): void {
    this.timer ??= setInterval(() => this.tick(), 200);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.seen.clear();
  }

  private tick(): void {
    const now = Date.now();
    for (const b of this.opts.boards()) {
      for (let slot = 1; slot <= b.slots; slot++) {
        const key = `${b.kioskId}/${slot}`;
        if (!diskIsOut(b.sim, slot)) {
          this.seen.delete(key);
          continue;
        }
        const since = this.seen.get(key) ?? now;
        this.seen.set(key, since);
        if (now - since >= (this.opts.delayMs ?? 3000)) {
          b.sim.takeDisk(slot);
          this.seen.delete(key);
          this.opts.onTake?.(b.kioskId, slot);
        }
      }
    }
  }
}
