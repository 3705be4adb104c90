/**
 * A stack of undo actions (kill a child, close a simulator, unmount, detach a loop
 * device, stop the hub, remove a temp dir). `run()` undoes in reverse order, each action
 * at most once, and never rejects: a failing action is reported through `onError` and the
 * rest still run.
 */
import { MissingToolError } from '../../hal/missing-tool.js';

export class Cleanup {
  private readonly actions: Array<{ what: string; fn: () => unknown }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly onError: (what: string, err: Error) => void = () => {}) {}

  /** Registers `fn` to run at cleanup (after everything registered later). */
  add(what: string, fn: () => unknown): void {
    this.actions.push({ what, fn });
  }

  /** Runs every registered action in reverse order; idempotent, concurrent calls share the run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.actions.length > 0) {
        const a = this.actions.pop()!;
        try {
          await a.fn();
        } catch (err) {
          this.onError(a.what, err as Error);
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** 128 + the signal's number, the shell's exit status for a process ended by it. */
export function signalExitCode(signal: string): number {
  return SIGNAL_EXIT[signal as keyof typeof SIGNAL_EXIT] ?? 1;
}

export interface ProcessGuardOptions {
  /** Program name, the prefix of its messages (`demo`, `bench:clone`). */
  name: string;
  /** Where messages go (default stderr). */
  say?: (line: string) => void;
  /**
   * Takes a signal over (returns true): the program stops itself and runs the cleanup on
   * its way out (the demo: Ctrl-C is how it is stopped). Default: run the cleanup and exit.
   */
  onSignal?: (signal: string) => boolean;
}

/**
 * Guards a script's process until the returned function is called: SIGINT, SIGTERM,
 * SIGHUP, an uncaught exception or an unhandled rejection run `cleanup` to the end and
 * exit (128 + signal; 1 for an error, printed as one line for a MissingToolError, else
 * with its stack). Install it before creating the first thing `cleanup` undoes.
 */
export function guardProcess(cleanup: Cleanup, opts: ProcessGuardOptions): () => void {
  const say = opts.say ?? ((l: string) => process.stderr.write(`${l}\n`));
  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    void cleanup.run().finally(() => process.exit(code));
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!exiting && opts.onSignal?.(signal)) return;
    if (!exiting) say(`${opts.name}: ${signal}: cleaning up`);
    exit(signalExitCode(signal));
  };
  const onError = (err: unknown) => {
    if (err instanceof MissingToolError) say(`${opts.name}: ${err.message}`);
    else say(`${opts.name}: unexpected error, cleaning up: ${(err as Error)?.stack ?? err}`);
    exit(1);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return () => {
    for (const s of SIGNALS) process.off(s, onSignal);
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  };
}
