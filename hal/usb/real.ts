/**
 * Real USB driver: hotplug and listing through the `usb` package (v3, WebUSB API), per-port
 * power through sysfs `disable` files (kernel >= 6.0) or hub class requests otherwise.
 * The `usb` package is loaded lazily unless a backend is injected (tests inject fakes).
 */
import { EventEmitter } from 'node:events';
import { release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type HubDevice,
  readHubDescriptor,
  readPortPowered,
  sendPortPower,
  usbError,
  withHub,
} from './hub-control.js';
import { type ParsedPortPath, parsePortPath, portPathOf } from './port-path.js';
import {
  DEFAULT_USB_SYSFS_ROOT,
  devicePresent,
  findPortDir,
  readDisable,
  writeDisable,
} from './sysfs-power.js';
import {
  DEFAULT_DETACH_TIMEOUT_MS,
  DEFAULT_POWER_CYCLE_OFF_MS,
  type Usb,
  type UsbDeviceInfo,
  UsbError,
  type UsbEvents,
} from './types.js';

/** The part of a `usb` package device this driver uses. */
export interface BackendDevice extends HubDevice {
  vendorId: number;
  productId: number;
  deviceClass: number;
  bus: string;
  ports: number[];
  readonly serialNumber?: string | null;
  readonly manufacturerName?: string | null;
  readonly productName?: string | null;
}

export type BackendListener = (event: { device: BackendDevice }) => void;

/** The part of the `usb` package's `usb` object (a WebUSB instance) this driver uses. */
export interface UsbBackend {
  getDevices(): Promise<BackendDevice[]>;
  addEventListener(type: 'connect' | 'disconnect', listener: BackendListener): void;
  removeEventListener(type: 'connect' | 'disconnect', listener: BackendListener): void;
}

export interface RealUsbDeps {
  /** Default: `(await import('usb')).usb`. */
  backend?: UsbBackend;
  /** Default `/sys/bus/usb/devices`. */
  sysfsRoot?: string;
  /** `auto` (default): sysfs on kernel >= 6.0 when the port has a `disable` file, else control. */
  powerMethod?: 'auto' | 'sysfs' | 'control';
  /** Default `os.release()`. */
  kernelRelease?: string;
  /** How long a device may take to leave the bus after its port is switched off. */
  detachTimeoutMs?: number;
  /** Poll interval of that wait (default 50 ms). */
  pollMs?: number;
}

type PowerTarget =
  | { kind: 'sysfs'; dir: string }
  | { kind: 'control'; hub: BackendDevice; name: string };

export class RealUsb extends EventEmitter<UsbEvents> implements Usb {
  private backend: UsbBackend | undefined;
  private readonly onConnect: BackendListener = ({ device }) => this.relay('attach', device);
  private readonly onDisconnect: BackendListener = ({ device }) => this.relay('detach', device);

  constructor(private readonly deps: RealUsbDeps = {}) {
    super();
  }

  async start(): Promise<void> {
    if (this.backend) return;
    const backend = this.deps.backend ?? (await loadUsb());
    backend.addEventListener('connect', this.onConnect);
    backend.addEventListener('disconnect', this.onDisconnect);
    this.backend = backend;
  }

  async stop(): Promise<void> {
    const backend = this.backend;
    if (!backend) return;
    this.backend = undefined;
    backend.removeEventListener('connect', this.onConnect);
    backend.removeEventListener('disconnect', this.onDisconnect);
  }

  async list(): Promise<UsbDeviceInfo[]> {
    const devices = await this.devices();
    return devices.map(toInfo).filter((d): d is UsbDeviceInfo => d !== undefined);
  }

  async setPortPower(portPath: string, on: boolean): Promise<void> {
    this.need();
    const p = parsePortPath(portPath);
    const target = await this.target(p);
    const root = this.root;
    const hadDevice = !on && (await devicePresent(root, portPath));
    if (target.kind === 'sysfs') {
      await writeDisable(target.dir, portPath, on);
    } else {
      await withHub(target.hub, target.name, async () => {
        const desc = await readHubDescriptor(target.hub, target.name);
        this.checkHub(desc, p, target.name);
        await sendPortPower(target.hub, target.name, p.port, on);
        if ((await readPortPowered(target.hub, target.name, p.port, desc.superSpeed)) !== on) {
          throw new UsbError(
            'EVERIFY',
            `hub ${target.name} acknowledged switching port ${p.port} ${on ? 'on' : 'off'} but reports it is not`,
          );
        }
      });
    }
    if (hadDevice) await this.waitGone(portPath);
  }

  async getPortPower(portPath: string): Promise<boolean> {
    this.need();
    const p = parsePortPath(portPath);
    const target = await this.target(p);
    if (target.kind === 'sysfs') return readDisable(target.dir, portPath);
    return withHub(target.hub, target.name, async () => {
      const desc = await readHubDescriptor(target.hub, target.name);
      this.checkHub(desc, p, target.name, false);
      return readPortPowered(target.hub, target.name, p.port, desc.superSpeed);
    });
  }

  async powerCycle(portPath: string, offMs = DEFAULT_POWER_CYCLE_OFF_MS): Promise<void> {
    try {
      await this.setPortPower(portPath, false);
    } catch (err) {
      // The port may be off although the device stayed (EVERIFY): switch it back on anyway.
      if (err instanceof UsbError && err.code === 'EVERIFY') {
        await this.setPortPower(portPath, true).catch(() => {});
      }
      throw err;
    }
    await sleep(offMs);
    await this.setPortPower(portPath, true);
  }

  private get root(): string {
    return this.deps.sysfsRoot ?? DEFAULT_USB_SYSFS_ROOT;
  }

  private async target(p: ParsedPortPath): Promise<PowerTarget> {
    const method = this.deps.powerMethod ?? 'auto';
    if (method !== 'control') {
      const found = await findPortDir(this.root, p);
      if (
        found.kind === 'found' &&
        found.hasDisable &&
        (method === 'sysfs' || this.kernelAtLeast6())
      ) {
        return { kind: 'sysfs', dir: found.dir };
      }
      if (found.kind === 'no-port') {
        throw new UsbError('ENOPORT', `hub ${p.hub} has no port ${p.port} (${found.hubDir})`);
      }
      if (found.kind === 'no-hub') {
        throw new UsbError('ENOPORT', `no USB hub ${p.hub} under ${this.root}: is it plugged in?`);
      }
      if (method === 'sysfs') {
        throw new UsbError(
          'ENOTSUPPORTED',
          `port ${p.portPath} has no sysfs disable file (kernel older than 6.0?)`,
        );
      }
    }
    const hubPath = p.hub.startsWith('usb') ? undefined : p.hub;
    const hub = hubPath
      ? (await this.devices()).find((d) => portPathOf(d.bus, d.ports) === hubPath)
      : undefined;
    if (!hub) {
      throw new UsbError(
        hubPath ? 'ENOPORT' : 'ENOTSUPPORTED',
        hubPath
          ? `no USB hub at ${hubPath}: is it plugged in?`
          : `port ${p.portPath} is on root hub ${p.hub}, which is switched only through sysfs (kernel >= 6.0)`,
      );
    }
    if (hub.deviceClass !== 9) {
      throw new UsbError(
        'ENOPORT',
        `the device at ${hubPath} is not a hub (class ${hub.deviceClass})`,
      );
    }
    return { kind: 'control', hub, name: hubPath! };
  }

  private checkHub(
    desc: { ports: number; powerSwitching: string },
    p: ParsedPortPath,
    name: string,
    needSwitching = true,
  ): void {
    if (p.port > desc.ports) {
      throw new UsbError(
        'ENOPORT',
        `hub ${name} has ${desc.ports} ports; there is no port ${p.port}`,
      );
    }
    if (needSwitching && desc.powerSwitching !== 'per-port') {
      throw new UsbError(
        'ENOTSUPPORTED',
        `hub ${name} has ${desc.powerSwitching} power switching, not per port: use a hub with per-port power switching`,
      );
    }
  }

  private kernelAtLeast6(): boolean {
    const major = Number.parseInt(this.deps.kernelRelease ?? release(), 10);
    return Number.isInteger(major) && major >= 6;
  }

  private async waitGone(portPath: string): Promise<void> {
    const deadline = Date.now() + (this.deps.detachTimeoutMs ?? DEFAULT_DETACH_TIMEOUT_MS);
    while (await devicePresent(this.root, portPath)) {
      if (Date.now() >= deadline) {
        throw new UsbError(
          'EVERIFY',
          `port ${portPath} was switched off but its device is still attached: the hub ` +
            'probably gangs port power or ignores the request. Use a hub with per-port switching.',
        );
      }
      await sleep(this.deps.pollMs ?? 50);
    }
  }

  private async devices(): Promise<BackendDevice[]> {
    const backend = this.need();
    try {
      return await backend.getDevices();
    } catch (err) {
      throw usbError('listing USB devices', err);
    }
  }

  private relay(event: 'attach' | 'detach', device: BackendDevice): void {
    try {
      const info = toInfo(device);
      if (info) this.emit(event, info);
    } catch (err) {
      this.emit('error', usbError(`handling a USB ${event}`, err));
    }
  }

  private need(): UsbBackend {
    if (!this.backend) throw new UsbError('ENOTSTARTED', 'USB is not started: call start() first');
    return this.backend;
  }
}

/** Converts a backend device; undefined for root hubs (no port chain). */
export function toInfo(d: BackendDevice): UsbDeviceInfo | undefined {
  const portPath = portPathOf(d.bus, d.ports);
  if (!portPath) return undefined;
  const info: UsbDeviceInfo = {
    portPath,
    busNumber: Number.parseInt(d.bus, 10),
    ports: [...d.ports],
    vendorId: d.vendorId,
    productId: d.productId,
    deviceClass: d.deviceClass,
  };
  const serial = readString(() => d.serialNumber);
  const manufacturer = readString(() => d.manufacturerName);
  const product = readString(() => d.productName);
  if (serial) info.serial = serial;
  if (manufacturer) info.manufacturer = manufacturer;
  if (product) info.product = product;
  return info;
}

function readString(get: () => string | null | undefined): string | undefined {
  try {
    return get() ?? undefined;
  } catch {
    return undefined; // string descriptors can be unreadable (device gone, no permission)
  }
}

async function loadUsb(): Promise<UsbBackend> {
  try {
    const mod = await import('usb');
    return mod.usb as unknown as UsbBackend;
  } catch (err) {
    throw usbError('loading the usb module', err);
  }
}
