/**
 * USB entry point: `createUsb(config)` returns the real driver (loaded lazily, so the
 * simulator works where the native `usb` module or USB hardware is missing) or the simulator.
 */
import { SimUsb, type SimUsbOptions } from './sim.js';
import type { Usb } from './types.js';

export { parsePortPath, portPathOf } from './port-path.js';
export type { SimPortFault, SimPortOptions, SimUsbDevice, SimUsbOptions } from './sim.js';
export * from './types.js';
export { SimUsb };

export type UsbConfig =
  | {
      driver: 'real';
      /** Default `/sys/bus/usb/devices`. */
      sysfsRoot?: string;
      /** `auto` (default): sysfs `disable` files on kernel >= 6.0, else hub class requests. */
      powerMethod?: 'auto' | 'sysfs' | 'control';
      /** How long a device may take to leave the bus after power-off (default 3000 ms). */
      detachTimeoutMs?: number;
    }
  | ({ driver: 'sim' } & SimUsbOptions);

export function createUsb(config: { driver: 'sim' } & SimUsbOptions): Promise<SimUsb>;
export function createUsb(config: UsbConfig): Promise<Usb>;
export async function createUsb(config: UsbConfig): Promise<Usb> {
  if (config.driver === 'sim') return new SimUsb(config);
  const { RealUsb } = await import('./real.js');
  const { driver: _driver, ...deps } = config;
  return new RealUsb(deps);
}
