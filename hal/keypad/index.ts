/**
 * Keypad entry point: `createKeypad(config)` returns the real driver (loaded lazily, so the
 * simulator works where the epoll module or an input device is missing) or the simulator.
 */
import { SimKeypad, type SimKeypadOptions } from './sim.js';
import type { Keypad } from './types.js';

export type { Grabber, GrabResult } from './grab.js';
export {
  codeOf,
  type EventLayout,
  encodeEvent,
  InputEventDecoder,
  KEY,
  keyOf,
  keyStroke,
  nativeLayout,
} from './input-event.js';
export { keyOfChar, type SimKeypadOptions } from './sim.js';
export * from './types.js';
export { SimKeypad };

export type KeypadConfig =
  | {
      driver: 'real';
      /** The device by its stable path: `/dev/input/by-id/usb-<maker>_<model>-event-kbd`. */
      path: string;
      /** input_event record size: 24 (64-bit ABI, default on arm64) or 16 (32-bit). */
      layout?: 16 | 24;
      /** How often an unplugged keypad is looked for again (default 2000 ms). */
      reconnectMs?: number;
    }
  | ({ driver: 'sim' } & SimKeypadOptions);

export function createKeypad(config: { driver: 'sim' } & SimKeypadOptions): Promise<SimKeypad>;
export function createKeypad(config: KeypadConfig): Promise<Keypad>;
export async function createKeypad(config: KeypadConfig): Promise<Keypad> {
  if (config.driver === 'sim') {
    const { driver: _driver, ...options } = config;
    return new SimKeypad(options);
  }
  const { RealKeypad } = await import('./real.js');
  const { driver: _driver, ...deps } = config;
  return new RealKeypad(deps);
}
