/**
 * The real protocol driver wired to the simulator through an in-process stream pair: fast
 * tests and `createMotorBoard({driver: 'sim'})`. unplug()/replug() model the USB-serial
 * adapter being pulled and put back (the board keeps its state; the driver reconnects).
 */
import type { Duplex } from 'node:stream';
import { type LinkOpener, MotorBoardDriver } from './driver.js';
import { duplexPair } from './duplex-pair.js';
import { MotorBoardSim, type SimOptions } from './sim.js';
import type { DriverTiming } from './types.js';

export interface InProcessBoard {
  board: MotorBoardDriver;
  sim: MotorBoardSim;
  unplug(): void;
  replug(): void;
  /** Stops the driver and the simulator. */
  close(): Promise<void>;
}

export function createInProcessBoard(opts: SimOptions & { timing?: DriverTiming }): InProcessBoard {
  const sim = new MotorBoardSim(opts);
  let hostEnd: Duplex | null = null;
  let plugged = true;
  const plug = () => {
    const [host, board] = duplexPair();
    hostEnd = host;
    sim.attach(board);
  };
  plug();
  const opener: LinkOpener = {
    where: 'in-process simulator',
    async open() {
      if (!plugged || !hostEnd || hostEnd.destroyed) {
        throw Object.assign(new Error('ENOENT: simulated adapter unplugged'), { code: 'ENOENT' });
      }
      const stream = hostEnd;
      return { stream, close: async () => void stream.destroy() };
    },
  };
  const board = new MotorBoardDriver({ opener, address: opts.address, timing: opts.timing });
  return {
    board,
    sim,
    unplug() {
      plugged = false;
      hostEnd?.destroy();
      hostEnd = null;
      sim.detach();
    },
    replug() {
      plugged = true;
      plug();
    },
    async close() {
      await board.stop();
      sim.close();
    },
  };
}
