/**
 * The real driver: the protocol driver on a serial port opened with `serialport`. Loaded
 * lazily by index.ts, so the simulator runs where the native binding is missing.
 */
import { realpath } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { type Link, type LinkOpener, MotorBoardDriver } from './driver.js';
import type { MotorBoard, RealMotorBoardConfig } from './types.js';

/**
 * Opens `path` (e.g. `/dev/serial/by-id/...`, `/dev/kiosk-board`) at 8N1; rejects while absent.
 * While open, the path is re-resolved every `watchMs`: when it vanishes or points at another
 * device (udev removed or re-created the link) the port is closed, which the driver sees as a
 * disconnect. This catches unplugs a read does not report (a pty hang-up reads as EOF forever).
 */
export function serialOpener(path: string, baudRate = 115200, watchMs = 200): LinkOpener {
  return {
    where: path,
    async open(): Promise<Link> {
      const device = await realpath(path);
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
      const close = () =>
        new Promise<void>((resolve) => {
          clearInterval(watch);
          if (!port.isOpen) return resolve();
          port.close(() => resolve());
        });
      const watch = setInterval(() => {
        realpath(path).then(
          (now) => now !== device && void close(),
          () => void close(),
        );
      }, watchMs);
      watch.unref();
      port.once('close', () => clearInterval(watch));
      return { stream: port, close };
    },
  };
}

export function createRealMotorBoard(config: Omit<RealMotorBoardConfig, 'driver'>): MotorBoard {
  const { path, baudRate, address, ...timing } = config;
  return new MotorBoardDriver({ opener: serialOpener(path, baudRate), address, timing });
}
