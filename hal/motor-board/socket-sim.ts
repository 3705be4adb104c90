/**
 * The simulator behind a Unix socket at `<dir>/board`, for a driver in another process
 * where socat (pty-sim.ts) is not installed: the real driver opens a socket path like a
 * serial device (real.ts). One connection at a time; a new one replaces the old, as a
 * re-opened serial port would. unplug() closes the listener and the connection and
 * removes the socket file (the driver sees the hang-up and the path vanish); replug()
 * listens again at the same path. close() always does both.
 */
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { type BoardSimulator, plugged } from './pty-sim.js';
import { MotorBoardSim, type SimOptions } from './sim.js';

export async function startSocketSimulator(
  opts: SimOptions & { dir: string },
): Promise<BoardSimulator> {
  const path = join(opts.dir, 'board');
  const sim = new MotorBoardSim(opts);
  let server: Server | null = null;
  let conn: Socket | null = null;

  const plug = async () => {
    await rm(path, { force: true });
    const s = createServer((sock) => {
      conn?.destroy();
      conn = sock;
      sock.on('error', () => {});
      sock.on('close', () => {
        if (conn === sock) conn = null;
      });
      sim.attach(sock);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(path, () => {
        s.off('error', reject);
        resolve();
      });
    });
    server = s;
  };

  const unplug = async () => {
    const s = server;
    server = null;
    sim.detach();
    conn?.destroy();
    conn = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    await rm(path, { force: true });
  };

  return plugged(path, sim, plug, unplug);
}
