import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createMotorBoard } from '../../../hal/motor-board/index.js';
import { type BoardSimulator, startPtySimulator } from '../../../hal/motor-board/pty-sim.js';
import { startSocketSimulator } from '../../../hal/motor-board/socket-sim.js';
import { motorBoardContract } from './contract.js';

const fast = { ejectMs: 40, retractMs: 40, selfTestMs: 40, bootMs: 20 };

t.test('in-process simulator', async (t) => {
  motorBoardContract(
    t,
    async () => {
      const board = await createMotorBoard({ driver: 'sim', slots: 4, loaded: [1, 2], ...fast });
      return { board, sim: board.sim, close: () => board.stop() };
    },
    { slots: 4, simulated: true },
  );
});

for (const [link, start] of [
  ['a pty (socat)', startPtySimulator],
  ['a Unix socket (no socat)', startSocketSimulator],
] as Array<[string, (o: Parameters<typeof startSocketSimulator>[0]) => Promise<BoardSimulator>]>) {
  t.test(`real driver against the simulator on ${link}`, async (t) => {
    motorBoardContract(
      t,
      async () => {
        const dir = await mkdtemp(join(tmpdir(), 'motor-board-'));
        const linked = await start({ dir, slots: 4, loaded: [1, 2], ...fast }).catch(
          async (err) => {
            await rm(dir, { recursive: true, force: true });
            throw err;
          },
        );
        const board = await createMotorBoard({ driver: 'real', path: linked.path });
        return {
          board,
          sim: linked.sim,
          close: async () => {
            await board.stop();
            await linked.close();
            await rm(dir, { recursive: true, force: true });
          },
        };
      },
      { slots: 4, simulated: true },
    );
  });
}

const port = process.env['HAL_MOTOR_PORT'];
t.test(
  'real hardware',
  { skip: port ? false : 'set HAL_MOTOR_PORT=/dev/ttyUSB0 (a real slot board) to run this' },
  async (t) => {
    motorBoardContract(
      t,
      async () => {
        const board = await createMotorBoard({ driver: 'real', path: port! });
        return { board, close: () => board.stop() };
      },
      { simulated: false },
    );
  },
);
