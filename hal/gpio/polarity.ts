/** Mapping between "write protection on/off" and the raw level of a relay line. */
import type { GpioOptions } from './types.js';

export type Polarity = Pick<GpioOptions, 'relayActiveLow' | 'protectWhen'>;

/** Raw line level (0/1) that puts a relay in the state giving `protect`. */
export function relayLevel(protect: boolean, polarity: Polarity): 0 | 1 {
  const energize = protect === ((polarity.protectWhen ?? 'energized') === 'energized');
  const high = energize !== (polarity.relayActiveLow ?? false);
  return high ? 1 : 0;
}

/** Whether write protection is on, given a relay line's raw level. */
export function protectFromLevel(level: number, polarity: Polarity): boolean {
  return relayLevel(true, polarity) === (level ? 1 : 0);
}
