/**
 * USB port paths as the kernel names devices: `<bus>-<port>[.<port>...]`, e.g. `1-1.3` is
 * the device on port 3 of the hub on port 1 of root hub `usb1`.
 */
import { UsbError } from './types.js';

export interface ParsedPortPath {
  portPath: string;
  busNumber: number;
  /** Port chain from the root hub. */
  ports: number[];
  /** Kernel name of the hub the port belongs to: `usb1` for a root hub port, else `1-1`. */
  hub: string;
  /** Name of the hub's interface 0 prefix: `1-0` for root hubs, else the hub name. */
  hubInterfacePrefix: string;
  /** Port number on that hub. */
  port: number;
}

const PORT_PATH = /^([1-9]\d*)-([1-9]\d*(?:\.[1-9]\d*)*)$/;

export function parsePortPath(portPath: string): ParsedPortPath {
  const m = PORT_PATH.exec(portPath);
  if (!m) {
    throw new UsbError(
      'ENOPORT',
      `"${portPath}" is not a USB port path; expected <bus>-<port>[.<port>...] such as 1-1.3`,
    );
  }
  const busNumber = Number(m[1]);
  const ports = m[2]!.split('.').map(Number);
  const port = ports[ports.length - 1]!;
  const parent = ports.slice(0, -1);
  const hub = parent.length ? `${busNumber}-${parent.join('.')}` : `usb${busNumber}`;
  const hubInterfacePrefix = parent.length ? hub : `${busNumber}-0`;
  return { portPath, busNumber, ports, hub, hubInterfacePrefix, port };
}

/** Port path of a device from its bus id (`1` or `001`) and port chain; undefined for root hubs. */
export function portPathOf(bus: string | number, ports: readonly number[]): string | undefined {
  const busNumber = typeof bus === 'number' ? bus : Number.parseInt(bus, 10);
  if (!Number.isInteger(busNumber) || busNumber <= 0 || ports.length === 0) return undefined;
  return `${busNumber}-${ports.join('.')}`;
}
