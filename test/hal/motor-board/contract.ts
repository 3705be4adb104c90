/**
 * The motor board contract: what every MotorBoard must do, run against the in-process
 * simulator, the real serialport driver on a pty, and real hardware (HAL_MOTOR_PORT).
 * Parts that need a "person" (taking a disk) or injected faults run only when the factory
 * provides the simulator.
 */
import type { Test } from 'tap';
import type { MotorBoardSim } from '../../../hal/motor-board/sim.js';
import type { MotorBoard, SlotSensors } from '../../../hal/motor-board/types.js';
import { nextEvent, waitFor } from './helpers.js';

export interface ContractSubject {
  board: MotorBoard;
  /** Present for simulated boards. Slots 1 and 2 must hold a seated disk at start. */
  sim?: MotorBoardSim;
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Slot count the board must report, when known. */
  slots?: number;
  /** True when the factory returns `sim` (enables the tests that need a "person" or faults). */
  simulated: boolean;
}

export function motorBoardContract(
  t: Test,
  factory: () => Promise<ContractSubject>,
  { slots: expectSlots, simulated }: ContractOptions,
): void {
  const simOnly = {
    skip: simulated ? false : 'needs the simulator (a person taking disks, faults)',
  };
  const withSim = async (t: Test) => {
    const s = await setup(t);
    if (!s.sim) throw new Error('factory returned no sim although simulated: true');
    return { ...s, sim: s.sim };
  };
  const setup = async (t: Test) => {
    const s = await factory();
    t.teardown(() => s.close());
    await s.board.start();
    return s;
  };

  t.test('identify names the board, its firmware and slot count', async (t) => {
    const { board } = await setup(t);
    const id = await board.identify();
    t.match(id.boardId, /^[0-9a-f]{8}$/);
    t.match(id.firmwareVersion, /^\d+\.\d+\.\d+$/);
    t.equal(id.protocolVersion, 1);
    if (expectSlots !== undefined) t.equal(id.slotCount, expectSlots);
    t.same(board.identity, id, 'start() read the same identity');
    t.equal(board.connected, true);
  });

  t.test('status of all slots and of one slot', async (t) => {
    const { board } = await setup(t);
    const n = board.identity!.slotCount;
    const all = await board.status();
    t.same(
      all.map((s) => s.slot),
      Array.from({ length: n }, (_, i) => i + 1),
    );
    const one = await board.status(n);
    t.equal(one.length, 1);
    t.equal(one[0]!.slot, n);
  });

  t.test('a slot the board lacks is EBADSLOT', async (t) => {
    const { board } = await setup(t);
    const n = board.identity!.slotCount;
    await t.rejects(board.status(n + 1), { code: 'EBADSLOT' });
    await t.rejects(board.eject(0), { code: 'EBADSLOT' });
  });

  t.test('stopped driver refuses with ESTOPPED', async (t) => {
    const { board } = await setup(t);
    await board.stop();
    await t.rejects(board.status(), { code: 'ESTOPPED' });
  });

  t.test(
    'dispense flow: eject, sensor shows disk taken; untaken disk is retracted',
    simOnly,
    async (t) => {
      const { board, sim } = await withSim(t);
      const res = await board.eject(1);
      t.equal(res.kind, 'eject');
      t.match(res.sensors, { slot: 1, present: true, seated: false, busy: false });
      const taken = new Promise<SlotSensors>((resolve) =>
        board.on('sensor', (slot, s) => slot === 1 && !s.present && resolve(s)),
      );
      sim.takeDisk(1);
      t.match(await taken, { present: false });
      t.match((await board.status(1))[0], {
        present: false,
        lastMotion: { kind: 'eject', result: 'ok' },
      });

      await board.eject(2);
      const back = await board.retract(2);
      t.match(back.sensors, { present: true, seated: true });
      t.notOk(sim.grabDisk(2), 'a renter cannot grab a disk that was pulled back in');
      t.notOk(sim.grabDisk(1), 'nor one that is gone');
      t.match(sim.sensors(2), { present: true, seated: true });
      await board.eject(2);
      t.ok(sim.grabDisk(2), 'a disk sticking out can be grabbed');
      t.match(sim.sensors(2), { present: false });
      t.equal(sim.ejectCount(1), 1);
      t.equal(sim.ejectCount(2), 2);
    },
  );

  t.test('refusals: empty slot ENODISK, second motion on a busy slot EBUSY', simOnly, async (t) => {
    const { board, sim } = await withSim(t);
    await t.rejects(board.eject(3), { code: 'ENODISK', nak: 'no-disk' });
    const first = board.eject(1);
    await t.rejects(board.eject(1), { code: 'EBUSY' });
    await first;
    t.equal(sim.ejectCount(1), 1, 'the refused eject did not move the motor');
  });

  t.test('jam: EJAM, the slot latches motor fault, self-test clears it', simOnly, async (t) => {
    const { board, sim } = await withSim(t);
    sim.injectJam(1);
    await t.rejects(board.eject(1), { code: 'EJAM' });
    t.match((await board.status(1))[0], { motorFault: true, lastMotion: { result: 'jam' } });
    await t.rejects(board.eject(1), { code: 'EFAULT' });
    const st = await board.selfTest(1);
    t.equal(st.ok, true);
    t.equal(st.sensors.motorFault, false);
    sim.injectJam(2, 'motor-fault');
    t.match(await board.selfTest(2), { ok: false, fault: 'motor-fault' });
  });

  t.test('reset: reset() waits for BOOT, emits reset, commands work after', async (t) => {
    const { board } = await setup(t);
    const ev = nextEvent(board, 'reset');
    await board.reset();
    t.same(await ev, ['command']);
    t.equal((await board.identify()).slotCount, board.identity!.slotCount);
  });

  t.test('motion wait can be cancelled without stopping the motor', simOnly, async (t) => {
    const { board, sim } = await withSim(t);
    const ac = new AbortController();
    const p = board.eject(1, { signal: ac.signal });
    await waitFor(() => sim.ejectCount(1) === 1, 'the eject to start');
    ac.abort();
    await t.rejects(p, { code: 'ECANCELED' });
    await waitFor(() => sim.record[0]?.result === 'ok', 'the motor to finish on its own');
  });
}
