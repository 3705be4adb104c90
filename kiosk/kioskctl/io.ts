/** kioskctl's terminal: streams and environment, injectable so tests can run main() in-process. */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  /** Whether stdout is a terminal (colours, progress bars, QR in blocks). */
  isTTY: boolean;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY),
  };
}

/** One line reader per input stream, so lines typed (or piped) ahead are never lost. */
class LineQueue {
  private readonly lines: string[] = [];
  private readonly waiters: Array<(l: string | null) => void> = [];
  private ended = false;
  private readonly rl;

  constructor(input: Readable) {
    this.rl = createInterface({ input, terminal: false });
    this.rl.on('line', (l) => {
      const w = this.waiters.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
    this.rl.on('close', () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
  }

  next(signal?: AbortSignal): Promise<string | null> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.resolve(null);
    this.rl.resume();
    return new Promise((resolve) => {
      const w = (v: string | null) => {
        signal?.removeEventListener('abort', onAbort);
        if (this.waiters.length === 0) this.rl.pause();
        resolve(v);
      };
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        resolve(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  close(): void {
    this.rl.close();
  }
}

const queues = new WeakMap<Readable, LineQueue>();

/**
 * Reads one line from the technician (after writing `question` to stderr). Resolves with
 * the line, or null at end of input. `signal` aborts the wait (resolves null).
 */
export function askLine(io: CliIo, question: string, signal?: AbortSignal): Promise<string | null> {
  io.stderr.write(question);
  let q = queues.get(io.stdin);
  if (!q) {
    q = new LineQueue(io.stdin);
    queues.set(io.stdin, q);
  }
  return q.next(signal);
}

/** Releases stdin after the last question (lets the process exit). */
export function closeInput(io: CliIo): void {
  queues.get(io.stdin)?.close();
  queues.delete(io.stdin);
}

/** Asks a yes/no question; only "y"/"yes" counts as yes. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  const a = await askLine(io, `${question} [y/N] `);
  return a !== null && /^\s*y(es)?\s*$/i.test(a);
}
