/**
 * The real driver: the protocol driver on a serial port opened with `serialport`. Loaded
 * lazily by index.ts, so the simulator runs where the native binding is missing.
 */
import { realpath, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { type Link, type LinkOpener, MotorBoardDriver } from './driver.js';
import type { MotorBoard, RealMotorBoardConfig } from './types.js';

/**
 * Opens `path` (e.g. `/dev/serial/by-id/...`, `/dev/kiosk-board`) at 8N1; rejects while absent.
 * While open, the path is re-resolved every `watchMs`: when it vanishes or points at another
 * device (udev removed or re-created the link) the port is closed, which the driver sees as a
 * disconnect. This catches unplugs a read does not report (a pty hang-up reads as EOF forever).
 * A path naming a Unix socket (the board simulator of socket-sim.ts, where socat is not
 * installed; a serial-to-socket bridge) is connected to instead, with the same watch.
 */
export function serialOpener(path: string, baudRate = 115200, watchMs = 200): LinkOpener {
  return {
    where: path,
    async open(): Promise<Link> {
      const device = await realpath(path);
      if ((await stat(device)).isSocket()) return socketLink(path, device, watchMs);
      const port = new SerialPort({
        path: device,
        baudRate,
        dataBits: 8,
        parity: 'none',
        stopBits: 1,
        autoOpen: false,
      });
      await new Promise<void>((resolve, reject) =>
        port.open((err) => (err ? reject(err) : resolve())),
      );
      return watchedLink(path, device, watchMs, port, () =>
        port.isOpen ? new Promise<void>((resolve) => port.close(() => resolve())) : undefined,
      );
    },
  };
}

async function socketLink(path: string, device: string, watchMs: number): Promise<Link> {
  const sock = connect(device);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return watchedLink(path, device, watchMs, sock, () => {
    if (sock.destroyed) return undefined;
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.destroy();
    return closed;
  });
}

/**
 * The open `stream` as a Link whose path is re-resolved every `watchMs`: when it vanishes
 * or points elsewhere, `shut` closes the stream (the driver sees a disconnect).
 */
function watchedLink(
  path: string,
  device: string,
  watchMs: number,
  stream: Duplex,
  shut: () => Promise<void> | undefined,
): Link {
  const close = async () => {
    clearInterval(watch);
    await shut();
  };
  const watch = setInterval(() => {
    realpath(path).then(
      (now) => now !== device && void close(),
      () => void close(),
    );
  }, watchMs);
  watch.unref();
  stream.once('close', () => clearInterval(watch));
  return { stream, close };
}

export function createRealMotorBoard(config: Omit<RealMotorBoardConfig, 'driver'>): MotorBoard {
  const { path, baudRate, address, ...timing } = config;
  return new MotorBoardDriver({ opener: serialOpener(path, baudRate), address, timing });
}
