/**
 * `createMotorBoard(config)`: the real serial driver (imported lazily: the native serialport
 * binding is only loaded when asked for) or the in-process simulator.
 */
import type { MotorBoardSim } from './sim.js';
import type {
  MotorBoard,
  MotorBoardConfig,
  RealMotorBoardConfig,
  SimMotorBoardConfig,
} from './types.js';

export * from './types.js';

/** The simulated board: a MotorBoard plus the simulator behind it (take/insert disks, faults). */
export interface SimulatedMotorBoard extends MotorBoard {
  readonly sim: MotorBoardSim;
}

export async function createMotorBoard(config: RealMotorBoardConfig): Promise<MotorBoard>;
export async function createMotorBoard(config: SimMotorBoardConfig): Promise<SimulatedMotorBoard>;
export async function createMotorBoard(config: MotorBoardConfig): Promise<MotorBoard>;
export async function createMotorBoard(config: MotorBoardConfig): Promise<MotorBoard> {
  if (config.driver === 'real') {
    const { createRealMotorBoard } = await import('./real.js');
    return createRealMotorBoard(config);
  }
  const { createInProcessBoard } = await import('./in-process.js');
  const {
    driver: _d,
    replyTimeoutMs,
    retries,
    interByteTimeoutMs,
    reconnect,
    bootTimeoutMs,
    ...sim
  } = config;
  const { board, sim: simulator } = createInProcessBoard({
    ...sim,
    timing: { replyTimeoutMs, retries, interByteTimeoutMs, reconnect, bootTimeoutMs },
  });
  const stop = board.stop.bind(board);
  return Object.assign(board, {
    sim: simulator,
    stop: async () => {
      await stop();
      simulator.close();
    },
  });
}
