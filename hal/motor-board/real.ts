/**
 * The real driver: the protocol driver on a serial port opened with `serialport`. Loaded
 * lazily by index.ts, so the simulator runs where the native binding is missing.
 */
import { SerialPort } from 'serialport';
import { type Link, type LinkOpener, MotorBoardDriver } from './driver.js';
import type { MotorBoard, RealMotorBoardConfig } from './types.js';

/** Opens `path` (e.g. `/dev/serial/by-id/...`, `/dev/kiosk-board`) at 8N1; rejects while absent. */
export function serialOpener(path: string, baudRate = 115200): LinkOpener {
  return {
    where: path,
    async open(): Promise<Link> {
      const port = new SerialPort({
        path,
        baudRate,
        dataBits: 8,
        parity: 'none',
        stopBits: 1,
        autoOpen: false,
      });
      await new Promise<void>((resolve, reject) =>
        port.open((err) => (err ? reject(err) : resolve())),
      );
      return {
        stream: port,
        close: () =>
          new Promise<void>((resolve) => {
            if (!port.isOpen) return resolve();
            port.close(() => resolve());
          }),
      };
    },
  };
}

export function createRealMotorBoard(config: Omit<RealMotorBoardConfig, 'driver'>): MotorBoard {
  const { path, baudRate, address, ...timing } = config;
  return new MotorBoardDriver({ opener: serialOpener(path, baudRate), address, timing });
}
