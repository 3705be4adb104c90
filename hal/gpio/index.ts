/**
 * GPIO entry point: `createGpio(config)` returns the real driver (loaded lazily, so the
 * simulator works where onoff or GPIO hardware is missing) or the simulator.
 */
import { SimGpio, type SimGpioOptions } from './sim.js';
import type { Gpio, GpioOptions } from './types.js';

export type { SimGpioOptions, SimInputName, SimRelayFault, SimRelayRecord } from './sim.js';
export * from './types.js';
export { SimGpio };

export type GpioConfig =
  | ({ driver: 'real'; sysfsRoot?: string } & GpioOptions)
  | ({ driver: 'sim' } & SimGpioOptions);

export function createGpio(config: { driver: 'sim' } & SimGpioOptions): Promise<SimGpio>;
export function createGpio(config: GpioConfig): Promise<Gpio>;
export async function createGpio(config: GpioConfig): Promise<Gpio> {
  if (config.driver === 'sim') {
    return new SimGpio(config);
  }
  const { RealGpio } = await import('./real.js');
  const { driver: _driver, sysfsRoot, ...options } = config;
  return new RealGpio({ options, ...(sysfsRoot ? { sysfsRoot } : {}) });
}
