// Runs `npm run demo` (scripts/demo.ts through tsx, or a command line such as the README's)
// as a child process in its own process group, collecting its output, and undoes
// everything it may leave behind when a test ends: the group (the demo, its kioskd
// children and socat) is SIGKILLed if still alive, and loop devices backed by files under
// the demo's directory are detached. leftovers() lists what the demo itself left behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loopsUnder } from '../../hal/drives/loop-device.js';
import { detachStaleLoops } from '../../scripts/lib/sim-disks.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface DemoChild {
  proc: ChildProcess;
  dir: string;
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** Resolves when the output contains `text`; rejects after `timeoutMs` or if the demo exits first. */
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
}

/** `p`, or `fallback` if `p` has not settled after `ms` (the timer never outlives the race). */
export async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<F>((r) => {
        timer = setTimeout(() => r(fallback), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Processes (pid, cmdline) whose command line mentions `needle` (read from /proc). */
export function processesMentioning(needle: string): Array<{ pid: number; cmd: string }> {
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push({ pid: Number(name), cmd });
    } catch {}
  }
  return out;
}

/**
 * What a run left under `dir`: processes whose command line names it (kioskd, socat), loop
 * devices backed by files in it, and mounts on or from it.
 */
export async function leftovers(
  dir: string,
): Promise<{ processes: string[]; loops: string[]; mounts: string[] }> {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter((l) =>
      l
        .split(' ')
        .slice(0, 2)
        .some((f) => f.startsWith(dir)),
    );
  return {
    processes: processesMentioning(dir).map((p) => p.cmd),
    loops: await loopsUnder(dir),
    mounts,
  };
}

export interface DemoChildOptions {
  /** Extra environment (e.g. a PATH without socat). */
  env?: NodeJS.ProcessEnv;
  /**
   * Run this shell command line (bash -c, in `cwd`) instead of `node scripts/demo.ts`; it
   * gets the demo's arguments (`--dir <dir> ...args`) appended.
   */
  commandLine?: string;
  cwd?: string;
}

export async function startDemoChild(
  t: { teardown(fn: () => unknown): void },
  args: string[],
  opts: DemoChildOptions = {},
): Promise<DemoChild> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'demo-e2e-'));
  const demoArgs = ['--dir', dir, ...args];
  const env = { ...process.env, ...opts.env };
  const proc = opts.commandLine
    ? spawn('bash', ['-c', `${opts.commandLine} ${demoArgs.join(' ')}`], {
        cwd: opts.cwd ?? ROOT,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'scripts/demo.ts'), ...demoArgs],
        {
          cwd: opts.cwd ?? ROOT,
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      resolve(signal ?? code ?? -1);
      for (const w of waiters) w();
    });
  });
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {}
      await exited;
    }
    // Anything the demo's group started and that outlived it (e.g. after SIGKILL).
    for (const p of processesMentioning(dir)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
    await detachStaleLoops(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return {
    proc,
    dir,
    output: () => out,
    exited,
    waitForOutput(text, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes(text)) {
            finish();
            resolve();
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            finish();
            reject(new Error(`the demo exited before printing "${text}":\n${out.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${out.slice(-4000)}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}
