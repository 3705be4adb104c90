/**
 * Simulated keypad: keys typed by a test or a simulation, with plug/unplug and a kernel
 * buffer overflow. Optionally listens on a Unix socket (`socketPath`) so another process (a
 * fleet simulation driving a kioskd child) can type: every byte received is one key
 * (see `keyOfChar`). Self-contained: every instance has its own state.
 */
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { codeOf } from './input-event.js';
import type { Keypad, KeypadEvents, KeypadKey, KeypadStatus } from './types.js';

export interface SimKeypadOptions {
  /** A Unix socket to listen on; bytes written to it are typed (see keyOfChar). */
  socketPath?: string;
  /** Start unplugged. */
  unplugged?: boolean;
}

/** `0`-`9` digits, `\n` or `\r` or `#` Enter, `\b` or DEL Backspace, `*` or ESC Clear; others ignored. */
export function keyOfChar(ch: string): KeypadKey | undefined {
  if (ch >= '0' && ch <= '9' && ch.length === 1) return ch as KeypadKey;
  if (ch === '\n' || ch === '\r' || ch === '#') return 'enter';
  if (ch === '\b' || ch === '\x7f') return 'backspace';
  if (ch === '*' || ch === '\x1b') return 'clear';
  return undefined;
}

export class SimKeypad extends EventEmitter<KeypadEvents> implements Keypad {
  private started = false;
  private plugged: boolean;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: SimKeypadOptions = {}) {
    super();
    this.plugged = !options.unplugged;
  }

  status(): KeypadStatus {
    const connected = this.started && this.plugged;
    return {
      connected,
      grabbed: connected,
      device: 'sim',
      ...(connected
        ? {}
        : { note: this.started ? 'the simulated keypad is unplugged' : 'not started' }),
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.options.socketPath) await this.listen(this.options.socketPath);
    if (this.plugged) this.emit('connected', this.status());
    else this.emit('disconnected', 'the simulated keypad is unplugged');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  // ---- test hooks ----

  /** Presses one key (ignored while stopped or unplugged, as a real keypad's would be lost). */
  press(key: KeypadKey): void {
    if (!this.started || !this.plugged) return;
    this.emit('key', { key, code: codeOf(key) });
  }

  /** Types a string, one key per character (keyOfChar); unknown characters are skipped. */
  type(text: string): void {
    for (const ch of text) {
      const key = keyOfChar(ch);
      if (key) this.press(key);
    }
  }

  unplug(): void {
    if (!this.plugged) return;
    this.plugged = false;
    if (this.started) this.emit('disconnected', 'the simulated keypad was unplugged');
  }

  replug(): void {
    if (this.plugged) return;
    this.plugged = true;
    if (this.started) this.emit('connected', this.status());
  }

  /** The kernel's buffer overflowed (SYN_DROPPED). */
  drop(): void {
    if (this.started && this.plugged) this.emit('dropped');
  }

  private async listen(socketPath: string): Promise<void> {
    rmSync(socketPath, { force: true });
    const server = net.createServer((s) => {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => this.sockets.delete(s));
      s.on('data', (d: Buffer) => this.type(d.toString('latin1')));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    this.server = server;
  }
}
