/**
 * Per-port power through the USB hub class requests (USB 2.0 spec 11.24.2), for kernels
 * without the sysfs `disable` file: SET_FEATURE / CLEAR_FEATURE(PORT_POWER) and
 * GET_STATUS(port), sent to the hub with a WebUSB-style control transfer (the `usb` package).
 */
import { UsbError } from './types.js';

export interface ControlSetup {
  requestType: 'standard' | 'class' | 'vendor';
  recipient: 'device' | 'interface' | 'endpoint' | 'other';
  request: number;
  value: number;
  index: number;
}

/** The part of a `usb` package (WebUSB) device that talks to a hub. */
export interface HubDevice {
  open(): Promise<void>;
  close(): Promise<void>;
  controlTransferOut(
    setup: ControlSetup,
    data?: Uint8Array,
  ): Promise<{ status: string; bytesWritten?: number }>;
  controlTransferIn(
    setup: ControlSetup,
    length: number,
  ): Promise<{ status: string; data?: DataView }>;
}

export const REQ_GET_STATUS = 0;
export const REQ_CLEAR_FEATURE = 1;
export const REQ_SET_FEATURE = 3;
export const REQ_GET_DESCRIPTOR = 6;
export const PORT_POWER = 8;
const USB2_HUB_DESCRIPTOR = 0x29;
const USB3_HUB_DESCRIPTOR = 0x2a;

/** The bmRequestType byte of a setup packet. */
export function bmRequestType(setup: ControlSetup, direction: 'in' | 'out'): number {
  const type = { standard: 0, class: 1, vendor: 2 }[setup.requestType];
  const recipient = { device: 0, interface: 1, endpoint: 2, other: 3 }[setup.recipient];
  return (direction === 'in' ? 0x80 : 0) | (type << 5) | recipient;
}

export function portPowerSetup(port: number, on: boolean): ControlSetup {
  return {
    requestType: 'class',
    recipient: 'other',
    request: on ? REQ_SET_FEATURE : REQ_CLEAR_FEATURE,
    value: PORT_POWER,
    index: port,
  };
}

export function portStatusSetup(port: number): ControlSetup {
  return {
    requestType: 'class',
    recipient: 'other',
    request: REQ_GET_STATUS,
    value: 0,
    index: port,
  };
}

export interface HubDescriptor {
  ports: number;
  /** Logical power switching mode: 0 ganged, 1 per port, 2/3 none. */
  powerSwitching: 'ganged' | 'per-port' | 'none';
  superSpeed: boolean;
}

/** Runs `fn` with the hub opened, closing it afterwards. */
export async function withHub<T>(hub: HubDevice, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    await hub.open();
  } catch (err) {
    throw usbError(`opening hub ${name}`, err);
  }
  try {
    return await fn();
  } finally {
    await hub.close().catch(() => {});
  }
}

/** Reads the hub class descriptor (USB 2 form, then SuperSpeed form). */
export async function readHubDescriptor(hub: HubDevice, name: string): Promise<HubDescriptor> {
  for (const type of [USB2_HUB_DESCRIPTOR, USB3_HUB_DESCRIPTOR]) {
    const setup: ControlSetup = {
      requestType: 'class',
      recipient: 'device',
      request: REQ_GET_DESCRIPTOR,
      value: type << 8,
      index: 0,
    };
    const res = await hub.controlTransferIn(setup, 12).catch((err) => {
      throw usbError(`reading the hub descriptor of ${name}`, err);
    });
    const d = res.data;
    if (res.status !== 'ok' || !d || d.byteLength < 5) continue;
    const lpsm = d.getUint16(3, true) & 0x3;
    return {
      ports: d.getUint8(2),
      powerSwitching: lpsm === 0 ? 'ganged' : lpsm === 1 ? 'per-port' : 'none',
      superSpeed: type === USB3_HUB_DESCRIPTOR,
    };
  }
  throw new UsbError('ENOTSUPPORTED', `${name} returned no hub descriptor: is it a hub?`);
}

export async function sendPortPower(hub: HubDevice, name: string, port: number, on: boolean) {
  const res = await hub.controlTransferOut(portPowerSetup(port, on)).catch((err) => {
    throw usbError(`switching port ${port} of hub ${name} ${on ? 'on' : 'off'}`, err);
  });
  if (res.status !== 'ok') {
    throw new UsbError(
      'ENOTSUPPORTED',
      `hub ${name} refused to switch port ${port} ${on ? 'on' : 'off'} (${res.status})`,
    );
  }
}

/** PORT_POWER bit of wPortStatus: bit 8 on USB 2 hubs, bit 9 on SuperSpeed hubs. */
export async function readPortPowered(
  hub: HubDevice,
  name: string,
  port: number,
  superSpeed: boolean,
): Promise<boolean> {
  const res = await hub.controlTransferIn(portStatusSetup(port), 4).catch((err) => {
    throw usbError(`reading the status of port ${port} of hub ${name}`, err);
  });
  if (res.status !== 'ok' || !res.data || res.data.byteLength < 2) {
    throw new UsbError('EUSB', `hub ${name} gave no status for port ${port} (${res.status})`);
  }
  const status = res.data.getUint16(0, true);
  return (status & (superSpeed ? 0x0200 : 0x0100)) !== 0;
}

export function usbError(what: string, err: unknown): UsbError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/permission|access denied|EACCES|EPERM/i.test(msg)) {
    return new UsbError(
      'EPERM',
      `${what}: permission denied (${msg}). Run kioskd as root or add a udev rule for the hub.`,
      { cause: err },
    );
  }
  return new UsbError('EUSB', `${what} failed: ${msg}`, { cause: err });
}
