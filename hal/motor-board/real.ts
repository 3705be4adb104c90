/**
 * The real driver: the protocol driver on a serial port opened with `serialport`. Loaded
 * lazily by index.ts, so the simulator runs where the native binding is missing.
 */
import { type FSWatcher, watch } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { type Link, type LinkOpener, MotorBoardDriver } from './driver.js';
import type { MotorBoard, RealMotorBoardConfig } from './types.js';

/**
 * Opens `path` (e.g. `/dev/serial/by-id/...`, `/dev/kiosk-board`) at 8N1; rejects while absent.
 * While open, the link's directory is watched (inotify, no polling): when the path vanishes
 * or points at another device (udev removed or re-created the link) the port is closed,
 * which the driver sees as a disconnect. This catches unplugs a read does not report (a pty
 * hang-up reads as EOF forever). Where the directory cannot be watched, the path is looked
 * at every `watchMs` instead.
 * A path naming a Unix socket (the board simulator of socket-sim.ts, where socat is not
 * installed; a serial-to-socket bridge) is connected to instead, with the same watch.
 */
export function serialOpener(path: string, baudRate = 115200, watchMs = 1000): LinkOpener {
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
 * The open `stream` as a Link that closes itself (`shut`: the driver then sees a
 * disconnect) when `path` vanishes or points elsewhere: its directory is watched with
 * inotify (events, not polling; `/dev` sees a device node or udev link go at once),
 * or, where it cannot be watched, the path is looked at every `watchMs`.
 */
function watchedLink(
  path: string,
  device: string,
  watchMs: number,
  stream: Duplex,
  shut: () => Promise<void> | undefined,
): Link {
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  const unwatch = () => {
    watcher?.close();
    watcher = undefined;
    clearInterval(timer);
  };
  const close = async () => {
    unwatch();
    await shut();
  };
  const check = () => {
    realpath(path).then(
      (now) => now !== device && void close(),
      () => void close(),
    );
  };
  const name = basename(path);
  try {
    watcher = watch(dirname(resolve(path)), { persistent: false }, (_event, file) => {
      if (file === null || file === name) check();
    });
    watcher.on('error', () => void close()); // the directory itself went away
  } catch {
    timer = setInterval(check, watchMs);
    timer.unref();
  }
  stream.once('close', unwatch);
  return { stream, close };
}

export function createRealMotorBoard(config: Omit<RealMotorBoardConfig, 'driver'>): MotorBoard {
  const { path, baudRate, address, ...timing } = config;
  return new MotorBoardDriver({ opener: serialOpener(path, baudRate), address, timing });
}
