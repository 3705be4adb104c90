/**
 * The simulator behind a real tty: socat makes a pseudo-terminal pair with stable links
 * `<dir>/board` (for the driver under test, opened like `/dev/kiosk-board`) and `<dir>/sim`
 * (opened by the simulator with serialport). unplug() kills socat, so both links vanish
 * and both sides see the hang-up, as when a USB-serial adapter is pulled; replug() starts
 * socat again at the same paths. close() always kills socat. Without socat it rejects with
 * MissingToolError (one line naming the package); socket-sim.ts serves where socat is absent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { findTool, MissingToolError } from '../missing-tool.js';
import { MotorBoardSim, type SimOptions } from './sim.js';

/** A board simulator behind a link a separate process opens by path (pty or Unix socket). */
export interface BoardSimulator {
  /** Path for the driver under test (`hardware.motorBoard.path`). */
  path: string;
  sim: MotorBoardSim;
  unplug(): Promise<void>;
  replug(): Promise<void>;
  close(): Promise<void>;
}

export async function startPtySimulator(
  opts: SimOptions & { dir: string; socat?: string },
): Promise<BoardSimulator> {
  const socat = opts.socat ?? 'socat';
  if (!findTool(socat)) throw new MissingToolError([socat], 'the board simulator on a pty');
  const path = join(opts.dir, 'board');
  const simPath = join(opts.dir, 'sim');
  const sim = new MotorBoardSim(opts);
  let proc: ChildProcess | null = null;
  let port: SerialPort | null = null;

  const plug = async () => {
    const child = spawn(
      socat,
      ['-d', '-d', `pty,raw,echo=0,link=${path}`, `pty,raw,echo=0,link=${simPath}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc = child;
    let log = '';
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    child.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-4000);
    });
    const deadline = Date.now() + 5000;
    for (;;) {
      if (spawnError) throw new Error(`socat could not run: ${spawnError.message}`);
      if (child.exitCode !== null) throw new Error(`socat exited (${child.exitCode}): ${log}`);
      // socat logs "starting data transfer loop" once both ptys and links exist.
      if (
        log.includes('starting data transfer loop') &&
        (await exists(path)) &&
        (await exists(simPath))
      )
        break;
      if (Date.now() > deadline)
        throw new Error(`socat did not create ${path} and ${simPath} within 5 s: ${log}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const p = new SerialPort({ path: simPath, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
    p.on('error', () => {});
    port = p;
    sim.attach(p);
  };

  const unplug = async () => {
    const child = proc;
    proc = null;
    sim.detach();
    const p = port;
    port = null;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (p?.isOpen) await new Promise<void>((r) => p.close(() => r()));
  };

  return plugged(path, sim, plug, unplug);
}

/** Plugs the link in and returns the BoardSimulator around it (close(): unplug, stop the board). */
export async function plugged(
  path: string,
  sim: MotorBoardSim,
  plug: () => Promise<void>,
  unplug: () => Promise<void>,
): Promise<BoardSimulator> {
  await plug();
  return {
    path,
    sim,
    unplug,
    replug: plug,
    async close() {
      await unplug();
      sim.close();
    },
  };
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}
