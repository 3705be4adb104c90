/**
 * USB: hotplug events keyed by port path, and per-port power switching on hubs.
 * The interface, its events, its errors. No I/O here.
 */
import { CodedError } from '../../common/coded-error.js';

/** A device as seen on the bus. */
export interface UsbDeviceInfo {
  /** Where it is plugged: `<bus>-<port>[.<port>...]`, e.g. `1-1.3` (the kernel's name). */
  portPath: string;
  busNumber: number;
  /** Port chain from the root hub, e.g. `[1, 3]`. */
  ports: number[];
  vendorId: number;
  productId: number;
  /** iSerialNumber string; undefined when the device has none or it cannot be read. */
  serial?: string;
  manufacturer?: string;
  product?: string;
  /** bDeviceClass (9 = hub). */
  deviceClass: number;
}

export interface UsbEvents {
  /** A device appeared (plugged in, or its port was powered on and it enumerated). */
  attach: [device: UsbDeviceInfo];
  /** A device went away (unplugged, or its port was powered off). */
  detach: [device: UsbDeviceInfo];
  /** An asynchronous failure outside any call. */
  error: [err: UsbError];
}

export interface Usb {
  /** Subscribes to hotplug events. No timeout; not cancellable. Idempotent. */
  start(): Promise<void>;
  /** Unsubscribes; pending timers (re-enumeration in the simulator) are cancelled. Idempotent. */
  stop(): Promise<void>;
  /** The devices attached now (hubs included, root hubs excluded). Rejects with `EUSB`. */
  list(): Promise<UsbDeviceInfo[]>;
  /**
   * Switches the power of one hub port (`portPath` names the port, i.e. where the device
   * is or would be: `1-1.3` = port 3 of hub `1-1`). Switching off is verified: if a device
   * was attached, it must leave the bus within the driver's `detachTimeoutMs` (default
   * 3000 ms) or this rejects with `EVERIFY` (the hub gangs power or ignores the request).
   * Switching on resolves once the port is powered; the device re-enumerates later and
   * is reported by an `attach` event. Not cancellable.
   * Rejects with `ENOPORT` (no such hub or port), `ENOTSUPPORTED` (the hub cannot switch
   * port power), `EPERM` (no permission to the sysfs file or the hub), `EUSB`, `EVERIFY`,
   * `ENOTSTARTED`.
   */
  setPortPower(portPath: string, on: boolean): Promise<void>;
  /** Whether the port is powered (as the kernel or the hub reports it). Same errors. */
  getPortPower(portPath: string): Promise<boolean>;
  /**
   * Powers the port off (verified as above), waits `offMs` (default 2000 ms), powers it
   * on. Takes `offMs` plus up to `detachTimeoutMs`. Not cancellable: once the port is off,
   * it is always switched back on, even if stop() is called meanwhile.
   */
  powerCycle(portPath: string, offMs?: number): Promise<void>;
  on<E extends keyof UsbEvents>(event: E, listener: (...args: UsbEvents[E]) => void): this;
  off<E extends keyof UsbEvents>(event: E, listener: (...args: UsbEvents[E]) => void): this;
  once<E extends keyof UsbEvents>(event: E, listener: (...args: UsbEvents[E]) => void): this;
}

export type UsbErrorCode =
  | 'ENOPORT' // no such hub or port, or a malformed port path
  | 'ENOTSUPPORTED' // the hub cannot switch power per port
  | 'EPERM' // permission denied on sysfs or the hub device
  | 'EVERIFY' // the port was switched off but the device stayed
  | 'ENOTSTARTED' // called before start() or after stop()
  | 'EUSB'; // any other USB or sysfs failure

export class UsbError extends CodedError<UsbErrorCode> {}

export const DEFAULT_POWER_CYCLE_OFF_MS = 2000;
export const DEFAULT_DETACH_TIMEOUT_MS = 3000;
