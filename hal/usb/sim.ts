/**
 * Simulated USB: hub ports you plug devices into, power switching that detaches the device
 * when off and re-attaches it when on (after an enumeration delay), and injectable faults.
 * Self-contained: every instance has its own ports.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePortPath } from './port-path.js';
import {
  DEFAULT_POWER_CYCLE_OFF_MS,
  type Usb,
  type UsbDeviceInfo,
  UsbError,
  type UsbEvents,
} from './types.js';

export interface SimUsbDevice {
  vendorId: number;
  productId: number;
  serial?: string;
  manufacturer?: string;
  product?: string;
  deviceClass?: number;
}

export interface SimPortOptions {
  /** Whether the hub switches this port's power (default true). */
  switchable?: boolean;
}

export interface SimUsbOptions {
  /** The ports that exist, by port path (e.g. `1-1.1`..`1-1.4`). More with addPort(). */
  ports?: Array<string | ({ path: string } & SimPortOptions)>;
  /** Delay between power-on (or plug) and the attach event (default 5 ms). */
  enumerateMs?: number;
}

/** Faults: the port stays powered whatever is asked; the device enumerates slowly. */
export interface SimPortFault {
  ignorePowerOff?: boolean;
  enumerateMs?: number;
}

interface SimPort {
  path: string;
  switchable: boolean;
  powered: boolean;
  /** What the kernel believes after the last request (differs under ignorePowerOff). */
  reportedPower: boolean;
  device?: SimUsbDevice;
  attached: boolean;
  fault: SimPortFault;
  timer?: NodeJS.Timeout;
}

export class SimUsb extends EventEmitter<UsbEvents> implements Usb {
  private readonly ports = new Map<string, SimPort>();
  private started = false;

  constructor(private readonly options: SimUsbOptions = {}) {
    super();
    for (const p of options.ports ?? []) {
      if (typeof p === 'string') this.addPort(p);
      else this.addPort(p.path, p);
    }
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const port of this.ports.values()) {
      clearTimeout(port.timer);
      port.timer = undefined;
      // A device whose enumeration was cut short is attached silently.
      if (port.device && port.powered) port.attached = true;
    }
  }

  async list(): Promise<UsbDeviceInfo[]> {
    this.need();
    return [...this.ports.values()].filter((p) => p.attached).map((p) => info(p));
  }

  async setPortPower(portPath: string, on: boolean): Promise<void> {
    this.need();
    const port = this.port(portPath);
    if (!port.switchable) {
      throw new UsbError(
        'ENOTSUPPORTED',
        `the hub of port ${portPath} has no per-port power switching (simulated)`,
      );
    }
    port.reportedPower = on;
    if (on) {
      if (!port.powered) {
        port.powered = true;
        this.scheduleAttach(port);
      }
      return;
    }
    if (port.fault.ignorePowerOff) {
      if (port.attached) {
        throw new UsbError(
          'EVERIFY',
          `port ${portPath} was switched off but its device is still attached: the hub ` +
            'probably gangs port power or ignores the request (simulated fault).',
        );
      }
      return;
    }
    port.powered = false;
    this.detach(port);
  }

  async getPortPower(portPath: string): Promise<boolean> {
    this.need();
    return this.port(portPath).reportedPower;
  }

  async powerCycle(portPath: string, offMs = DEFAULT_POWER_CYCLE_OFF_MS): Promise<void> {
    try {
      await this.setPortPower(portPath, false);
    } catch (err) {
      if (err instanceof UsbError && err.code === 'EVERIFY') {
        await this.setPortPower(portPath, true).catch(() => {});
      }
      throw err;
    }
    await sleep(offMs);
    await this.setPortPower(portPath, true);
  }

  // ---- test hooks ----

  /** Adds a port (idempotent); ports are powered at first. */
  addPort(portPath: string, opts: SimPortOptions = {}): void {
    parsePortPath(portPath);
    if (this.ports.has(portPath)) return;
    this.ports.set(portPath, {
      path: portPath,
      switchable: opts.switchable ?? true,
      powered: true,
      reportedPower: true,
      attached: false,
      fault: {},
    });
  }

  /** Plugs a device in; if the port is powered it attaches after the enumeration delay. */
  plug(portPath: string, device: SimUsbDevice): void {
    const port = this.port(portPath);
    if (port.device) throw new Error(`sim: port ${portPath} already has a device`);
    port.device = { ...device };
    if (port.powered) this.scheduleAttach(port);
  }

  /** Pulls the device out (detach event if it was attached). */
  unplug(portPath: string): void {
    const port = this.port(portPath);
    this.detach(port);
    port.device = undefined;
  }

  /** Sets (or with null, clears) the faults of a port. */
  setFault(portPath: string, fault: SimPortFault | null): void {
    this.port(portPath).fault = { ...(fault ?? {}) };
  }

  /** Physical state of a port, for assertions. */
  portState(portPath: string): { powered: boolean; attached: boolean; plugged: boolean } {
    const p = this.port(portPath);
    return { powered: p.powered, attached: p.attached, plugged: p.device !== undefined };
  }

  private scheduleAttach(port: SimPort): void {
    clearTimeout(port.timer);
    if (!port.device || port.attached) return;
    const ms = port.fault.enumerateMs ?? this.options.enumerateMs ?? 5;
    port.timer = setTimeout(() => {
      port.timer = undefined;
      if (!port.device || !port.powered || port.attached) return;
      port.attached = true;
      if (this.started) this.emit('attach', info(port));
    }, ms);
  }

  private detach(port: SimPort): void {
    clearTimeout(port.timer);
    port.timer = undefined;
    if (!port.attached) return;
    port.attached = false;
    if (this.started) this.emit('detach', info(port));
  }

  private port(portPath: string): SimPort {
    parsePortPath(portPath);
    const port = this.ports.get(portPath);
    if (!port) {
      throw new UsbError(
        'ENOPORT',
        `no port ${portPath} (simulated ports: ${[...this.ports.keys()].join(', ') || 'none'})`,
      );
    }
    return port;
  }

  private need(): void {
    if (!this.started) throw new UsbError('ENOTSTARTED', 'USB is not started: call start() first');
  }
}

function info(port: SimPort): UsbDeviceInfo {
  const p = parsePortPath(port.path);
  const d = port.device!;
  const out: UsbDeviceInfo = {
    portPath: port.path,
    busNumber: p.busNumber,
    ports: p.ports,
    vendorId: d.vendorId,
    productId: d.productId,
    deviceClass: d.deviceClass ?? 0,
  };
  if (d.serial !== undefined) out.serial = d.serial;
  if (d.manufacturer !== undefined) out.manufacturer = d.manufacturer;
  if (d.product !== undefined) out.product = d.product;
  return out;
}
