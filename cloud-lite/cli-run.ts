/**
 * The error and exit handling of the hub's subcommands that run on their own (`cloud-lite
 * refund`, `cloud-lite user`, `cloud-lite content`): one commander program that never exits
 * the process, its exit code, and how a failure is told.
 */
import { Command } from 'commander';
import { HubError } from './errors.js';

/** Where a subcommand reads its environment and writes (tests pass their own). */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (s: string) => void;
  err: (s: string) => void;
}

/** The exit code a subcommand's action sets, and its two ways to refuse. */
export interface CliRun {
  code: number;
  /** Prints `<name>: <CODE>: <message>` (the code of a HubError) on stderr; exit code 1. */
  fail(err: unknown): void;
  /** Prints `<name>: <message>` on stderr: a wrong use; exit code 2. */
  usage(message: string): void;
}

/**
 * Runs subcommand `name` on `argv`: `define` adds its arguments, options and actions to the
 * program. Commander's own refusals (an unknown option, a missing argument) and --help return
 * commander's exit code, commander having printed why; any other error escaping an action is
 * printed as `<name>: <message>` with exit code 1. Returns the exit code.
 */
export async function runCli(
  name: string,
  argv: string[],
  io: CliIo,
  define: (program: Command, run: CliRun) => void,
): Promise<number> {
  const program = new Command(name).exitOverride();
  const run: CliRun = {
    code: 0,
    fail(err) {
      const e = err as Error;
      io.err(`${name}: ${e instanceof HubError ? `${e.code}: ` : ''}${e.message}\n`);
      run.code = 1;
    },
    usage(message) {
      io.err(`${name}: ${message}\n`);
      run.code = 2;
    },
  };
  define(program, run);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as { exitCode?: number; message: string; code?: string };
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 1;
    io.err(`${name}: ${e.message}\n`);
    return 1;
  }
  return run.code;
}
