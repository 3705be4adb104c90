/**
 * Per-port power through sysfs (kernel >= 6.0): writing 1 to
 * `<root>/<hub>/<hub-if>:1.0/<hub>-port<N>/disable` powers the port off, 0 powers it on.
 */
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParsedPortPath } from './port-path.js';
import { UsbError } from './types.js';

export const DEFAULT_USB_SYSFS_ROOT = '/sys/bus/usb/devices';

export type PortDirLookup =
  | { kind: 'found'; dir: string; hasDisable: boolean }
  | { kind: 'no-hub' }
  | { kind: 'no-port'; hubDir: string };

/** Finds the sysfs directory of the port `p` names. */
export async function findPortDir(root: string, p: ParsedPortPath): Promise<PortDirLookup> {
  const hubDir = join(root, p.hub);
  let entries: string[];
  try {
    entries = await readdir(hubDir);
  } catch {
    return { kind: 'no-hub' };
  }
  // The hub's interface 0, normally `<hub>:1.0`; another configuration value is possible.
  const ifaces = entries.filter(
    (e) => e.startsWith(`${p.hubInterfacePrefix}:`) && e.endsWith('.0'),
  );
  ifaces.sort((a, b) => (a.endsWith(':1.0') ? -1 : b.endsWith(':1.0') ? 1 : a.localeCompare(b)));
  for (const iface of ifaces) {
    const dir = join(hubDir, iface, `${p.hub}-port${p.port}`);
    if (await exists(dir))
      return { kind: 'found', dir, hasDisable: await exists(join(dir, 'disable')) };
  }
  return { kind: 'no-port', hubDir };
}

/** Writes the `disable` file and reads it back. */
export async function writeDisable(dir: string, portPath: string, on: boolean): Promise<void> {
  const file = join(dir, 'disable');
  try {
    await writeFile(file, on ? '0' : '1');
  } catch (err) {
    throw fsError(`switching port ${portPath} ${on ? 'on' : 'off'} through ${file}`, err);
  }
  if ((await readDisable(dir, portPath)) !== on) {
    throw new UsbError(
      'EVERIFY',
      `port ${portPath}: wrote ${on ? 0 : 1} to ${file} but it reads back ${on ? 1 : 0}; ` +
        'the kernel refused the change. Retry, or power-cycle the hub.',
    );
  }
}

/** True when the port is powered (disable reads 0). */
export async function readDisable(dir: string, portPath: string): Promise<boolean> {
  const file = join(dir, 'disable');
  try {
    return (await readFile(file, 'utf8')).trim() === '0';
  } catch (err) {
    throw fsError(`reading the power state of port ${portPath} from ${file}`, err);
  }
}

/** Whether a device is enumerated at `portPath` (its sysfs directory exists). */
export function devicePresent(root: string, portPath: string): Promise<boolean> {
  return exists(join(root, portPath));
}

function fsError(what: string, err: unknown): UsbError {
  const code = (err as NodeJS.ErrnoException).code;
  const msg = (err as Error).message;
  if (code === 'EACCES' || code === 'EPERM') {
    return new UsbError(
      'EPERM',
      `${what}: permission denied. Run kioskd as root or grant write access with a udev rule.`,
      { cause: err },
    );
  }
  if (code === 'ENOENT') {
    return new UsbError('ENOPORT', `${what}: the port disappeared (${msg}).`, { cause: err });
  }
  if (code === 'EOPNOTSUPP' || code === 'ENOTSUP') {
    return new UsbError('ENOTSUPPORTED', `${what}: the hub does not support it (${msg}).`, {
      cause: err,
    });
  }
  return new UsbError('EUSB', `${what} failed: ${msg}`, { cause: err });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
