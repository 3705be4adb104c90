import type { MotorBoard, SlotSensors } from '../../hal/motor-board/index.js';

export interface PickupWatch {
  /**
   * Resolves `taken` once the slot's sensor has reported no disk (also if it already did
   * since the watch began), `timeout` after `ms`, `aborted` when `signal` fires.
   */
  wait(ms: number, signal?: AbortSignal): Promise<'taken' | 'timeout' | 'aborted'>;
  /** Stops listening. Idempotent. */
  cancel(): void;
}

/** Watches the board's sensor reports for `slot` turning not-present (a renter took the disk). */
export function waitForPickup(board: MotorBoard, slot: number): PickupWatch {
  let taken = false;
  let wake: (() => void) | null = null;
  const onSensor = (s: number, sensors: SlotSensors) => {
    if (s !== slot || sensors.present) return;
    taken = true;
    wake?.();
  };
  board.on('sensor', onSensor);
  const cancel = () => {
    board.off('sensor', onSensor);
  };
  return {
    cancel,
    wait(ms, signal) {
      if (taken) return Promise.resolve('taken');
      if (signal?.aborted) return Promise.resolve('aborted');
      return new Promise((resolve) => {
        const done = (r: 'taken' | 'timeout' | 'aborted') => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          wake = null;
          resolve(r);
        };
        const onAbort = () => done('aborted');
        const timer = setTimeout(() => done('timeout'), ms);
        signal?.addEventListener('abort', onAbort, { once: true });
        wake = () => done('taken');
      });
    },
  };
}
