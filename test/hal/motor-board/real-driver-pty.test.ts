/**
 * The real serialport driver through a real tty (socat pty pair) against the simulator:
 * every injected fault, and unplug/replug of the "adapter".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Cmd } from '../../../hal/motor-board/frame.js';
import { type MotorBoard, MotorBoardError } from '../../../hal/motor-board/index.js';
import { startPtySimulator } from '../../../hal/motor-board/pty-sim.js';
import { createRealMotorBoard } from '../../../hal/motor-board/real.js';
import type { DriverTiming } from '../../../hal/motor-board/types.js';
import { haveTools } from '../../helpers/tools.js';
import { nextEvent, waitFor } from './helpers.js';

const hasSocat = haveTools(t, ['socat'], 'the real-driver tests on a pty');

async function setup(t: Test, timing: DriverTiming = {}, ejectMs = 40) {
  const dir = await mkdtemp(join(tmpdir(), 'motor-board-'));
  const pty = await startPtySimulator({
    dir,
    slots: 4,
    loaded: [1, 2, 3],
    ejectMs,
    retractMs: 40,
    selfTestMs: 40,
    bootMs: 20,
  });
  const board: MotorBoard = createRealMotorBoard({
    path: pty.path,
    reconnect: { initialMs: 20, maxMs: 200 },
    ...timing,
  });
  t.teardown(async () => {
    await board.stop();
    await pty.close();
    await rm(dir, { recursive: true, force: true });
  });
  await board.start();
  return { board, sim: pty.sim, pty };
}

const countCmd = (sim: { received: Array<{ cmd: number }> }, cmd: number) =>
  sim.received.filter((r) => r.cmd === cmd).length;

t.test(
  'faults through a real tty',
  { skip: hasSocat ? false : 'socat not installed (failed above)' },
  async (t) => {
    t.test('jam -> EJAM', async (t) => {
      const { board, sim } = await setup(t);
      sim.injectJam(2);
      const err = await board.eject(2).catch((e: unknown) => e);
      t.match(err, { code: 'EJAM', message: /EJECT slot 2 seq \d+/ });
    });

    t.test('lost ACK on eject: driver reads status and never pushes twice', async (t) => {
      const { board, sim } = await setup(t, {}, 150);
      sim.dropNext('ack');
      const res = await board.eject(1);
      t.match(res.sensors, { present: true, seated: false });
      t.equal(sim.ejectCount(1), 1, 'exactly one physical eject');
      t.equal(countCmd(sim, Cmd.EJECT), 1, 'the EJECT command was not resent');
      const ejectAt = sim.received.findIndex((r) => r.cmd === Cmd.EJECT);
      t.ok(
        sim.received.slice(ejectAt + 1).some((r) => r.cmd === Cmd.GET_STATUS),
        'status was read after the lost ACK',
      );
    });

    t.test(
      'lost ACK, motion finished before the status read: resolves from status, no re-push',
      async (t) => {
        const { board, sim } = await setup(t, { replyTimeoutMs: 150 }, 10);
        sim.dropNext('ack');
        // Losing the ACK loses nothing else; MOTION_DONE also arrives and is matched by seq.
        const res = await board.eject(3);
        t.equal(res.slot, 3);
        t.equal(sim.ejectCount(3), 1);
        t.equal(countCmd(sim, Cmd.EJECT), 1);
      },
    );

    t.test('lost reply on a status is retried', async (t) => {
      const { board, sim } = await setup(t);
      const before = countCmd(sim, Cmd.GET_STATUS);
      sim.dropNext('reply');
      const st = await board.status(2);
      t.equal(st[0]!.slot, 2);
      t.equal(countCmd(sim, Cmd.GET_STATUS) - before, 2, 'one lost, one retried');
    });

    t.test('corrupted byte -> ECRC (no retries left); retried when retries remain', async (t) => {
      const once = await setup(t, { retries: 0 });
      once.sim.corruptNext('reply');
      await t.rejects(once.board.status(1), {
        code: 'ECRC',
        message: /^GET_STATUS slot 1 seq \d+: the reply failed its CRC/,
      });
      const { board, sim } = await setup(t);
      sim.corruptNext('reply');
      const before = countCmd(sim, Cmd.GET_STATUS);
      t.equal((await board.status(1))[0]!.slot, 1);
      t.equal(countCmd(sim, Cmd.GET_STATUS) - before, 2, 'corrupted once, retried once');
    });

    t.test('timeout message names the command, the slot and the sequence number', async (t) => {
      const { board, sim } = await setup(t, { retries: 0, replyTimeoutMs: 100 });
      sim.dropNext('reply');
      const err = await board.status(3).catch((e: unknown) => e);
      t.ok(err instanceof MotorBoardError);
      t.match(err, {
        code: 'ETIMEOUT',
        message: /^GET_STATUS slot 3 seq \d+: no reply .* within 100 ms/,
      });
    });

    t.test('a second driver cannot steal the open port', async (t) => {
      const { pty } = await setup(t);
      const other = createRealMotorBoard({ path: pty.path });
      await t.rejects(other.start(), { code: 'EDISCONNECTED' });
    });

    t.test('board reset: reset event, in-flight motion gets ERESET, driver recovers', async (t) => {
      const { board, sim } = await setup(t, {}, 1000);
      const motion = board.eject(1).catch((e: unknown) => e);
      await waitFor(() => sim.ejectCount(1) === 1, 'the eject to start');
      const reset = nextEvent(board, 'reset');
      sim.resetBoard();
      t.same(await reset, ['watchdog']);
      t.match(await motion, { code: 'ERESET' });
      t.match((await board.status(1))[0], { lastMotion: { kind: 'eject', result: 'aborted' } });
      t.equal((await board.selfTest(4)).ok, true);
    });

    t.test(
      'unplug: EDISCONNECTED for in-flight and queued; replug: connected, works again',
      async (t) => {
        const { board, sim, pty } = await setup(t, { replyTimeoutMs: 2000 }, 2000);
        const motion = board.eject(1).catch((e: unknown) => e);
        await waitFor(() => sim.ejectCount(1) === 1, 'the eject to start');
        sim.dropNext('reply');
        const inflight = board.status(1).catch((e: unknown) => e);
        const queued = board.status(2).catch((e: unknown) => e);
        await waitFor(
          () => sim.received.at(-1)?.cmd === Cmd.GET_STATUS,
          'the status to be on the wire',
        );
        const gone = nextEvent(board, 'disconnected');
        await pty.unplug();
        t.match(await inflight, { code: 'EDISCONNECTED', message: /^GET_STATUS slot 1 seq \d+/ });
        t.match(await queued, { code: 'EDISCONNECTED' });
        t.match(await motion, { code: 'EDISCONNECTED' });
        t.match((await gone)[0], { code: 'EDISCONNECTED' });
        t.equal(board.connected, false);
        await t.rejects(board.status(), { code: 'EDISCONNECTED' });
        const back = nextEvent(board, 'connected');
        await pty.replug();
        t.equal((await back)[0].slotCount, 4);
        t.equal(board.connected, true);
        await waitFor(() => sim.record[0]?.result === 'ok', 'the motor to finish on the board');
        t.match((await board.status(1))[0], {
          present: true,
          seated: false,
          lastMotion: { result: 'ok' },
        });
        t.equal(sim.ejectCount(1), 1);
      },
    );

    t.test('sensor changes while unplugged are reported after reconnect', async (t) => {
      const { board, sim, pty } = await setup(t);
      await pty.unplug();
      sim.takeDisk(3);
      const seen = new Promise((resolve) =>
        board.on('sensor', (slot, s) => slot === 3 && resolve(s)),
      );
      await pty.replug();
      t.match(await seen, { slot: 3, present: false });
    });
  },
);
