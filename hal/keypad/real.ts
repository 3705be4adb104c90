/**
 * Real keypad driver: reads `struct input_event` records from an evdev node
 * (`/dev/input/by-id/<keypad>-event-kbd`), opened non-blocking and watched with epoll (the
 * `epoll` module onoff already brings), grabs it exclusively (grab.ts) so the console never
 * sees a code, and reopens it every `reconnectMs` after it was unplugged. A FIFO fed with
 * the same bytes works too (tests, simulations); it cannot be grabbed (ENOTTY), which the
 * status says.
 */
import { EventEmitter } from 'node:events';
import { closeSync, constants, open, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Grabber, perlGrab } from './grab.js';
import { type EventLayout, InputEventDecoder, interpret, nativeLayout } from './input-event.js';
import {
  DEFAULT_RECONNECT_MS,
  type Keypad,
  KeypadError,
  type KeypadEvents,
  type KeypadStatus,
} from './types.js';

interface EpollInstance {
  add(fd: number, events: number): this;
  remove(fd: number): this;
  close(): void;
}
interface EpollClass {
  new (cb: (err: Error | null, fd: number, events: number) => void): EpollInstance;
  EPOLLIN: number;
}

export interface RealKeypadDeps {
  /** The device node, by its stable by-id path. */
  path: string;
  /** Record size: 24 (64-bit ABI) or 16 (32-bit); default this process's. */
  layout?: EventLayout;
  /** Default 2000 ms. */
  reconnectMs?: number;
  /** Default perlGrab(). */
  grab?: Grabber;
  /** Default the `epoll` module. */
  Epoll?: EpollClass;
}

const READ_SIZE = 64 * 24;

export class RealKeypad extends EventEmitter<KeypadEvents> implements Keypad {
  private started = false;
  private fd: number | undefined;
  private epoll: EpollInstance | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly decoder: InputEventDecoder;
  private state: KeypadStatus;
  private lastOpenError = '';
  /** Bumped on stop() and on every close, so a late open or grab is discarded. */
  private generation = 0;

  constructor(private readonly deps: RealKeypadDeps) {
    super();
    this.decoder = new InputEventDecoder(deps.layout ?? nativeLayout());
    this.state = { connected: false, grabbed: false, device: deps.path, note: 'not started' };
  }

  status(): KeypadStatus {
    return { ...this.state };
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.generation++;
    await this.tryOpen();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.generation++;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.close();
    this.state = { connected: false, grabbed: false, device: this.deps.path, note: 'stopped' };
  }

  private async tryOpen(): Promise<void> {
    const gen = this.generation;
    let fd: number;
    try {
      fd = await new Promise<number>((resolve, reject) =>
        open(this.deps.path, constants.O_RDONLY | constants.O_NONBLOCK, (err, f) =>
          err ? reject(err) : resolve(f),
        ),
      );
    } catch (err) {
      if (gen !== this.generation) return;
      const e = err as NodeJS.ErrnoException;
      const note =
        e.code === 'ENOENT'
          ? `${this.deps.path} not found: the keypad is unplugged`
          : e.code === 'EACCES'
            ? `no permission to read ${this.deps.path}: kioskd must be in the group the udev rule gives the keypad (kiosk-keypad)`
            : `cannot open ${this.deps.path}: ${e.message}`;
      this.state = { connected: false, grabbed: false, device: this.deps.path, note };
      if (note !== this.lastOpenError) {
        this.lastOpenError = note;
        if (e.code !== 'ENOENT') this.emit('error', new KeypadError('EOPEN', note, { cause: e }));
      }
      this.schedule();
      return;
    }
    if (gen !== this.generation) {
      closeSync(fd);
      return;
    }
    const grab = await (this.deps.grab ?? perlGrab())(fd);
    if (gen !== this.generation) {
      closeSync(fd);
      return;
    }
    if (!grab.grabbed && (grab.errno === 'ETIMEDOUT' || grab.errno === 'ENONBLOCK')) {
      // The open file may be blocking now: reading it would stall kioskd. Open it afresh later.
      closeSync(fd);
      this.state = { connected: false, grabbed: false, device: this.deps.path, note: grab.note };
      this.emit('error', new KeypadError('EGRAB', grab.note));
      this.schedule();
      return;
    }
    this.fd = fd;
    this.lastOpenError = '';
    this.decoder.reset();
    this.state = {
      connected: true,
      grabbed: grab.grabbed,
      device: this.deps.path,
      ...(grab.grabbed ? {} : { note: grab.note }),
    };
    if (!grab.grabbed && grab.errno === 'EBUSY')
      this.emit('error', new KeypadError('EGRAB', grab.note));
    try {
      const Epoll = this.deps.Epoll ?? loadEpoll();
      this.epoll = new Epoll((err) => {
        if (err) this.lost(`epoll: ${err.message}`);
        else this.drain();
      }).add(fd, Epoll.EPOLLIN);
    } catch (err) {
      this.lost(`cannot watch ${this.deps.path}: ${(err as Error).message}`);
      return;
    }
    this.emit('connected', this.status());
    this.drain(); // bytes written before the watch began
  }

  /** Reads until the device has nothing more (EAGAIN), emitting key presses. */
  private drain(): void {
    const buf = Buffer.alloc(READ_SIZE);
    for (;;) {
      const fd = this.fd;
      if (fd === undefined) return;
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK') return;
        // ENODEV: unplugged.
        this.lost(
          e.code === 'ENODEV'
            ? `${this.deps.path} was unplugged`
            : `reading ${this.deps.path}: ${e.message}`,
        );
        return;
      }
      if (n === 0) {
        this.lost(`${this.deps.path} closed (end of file)`);
        return;
      }
      for (const ev of this.decoder.push(buf.subarray(0, n))) {
        const r = interpret(ev);
        if (r === 'dropped') this.emit('dropped');
        else if (r) this.emit('key', r);
        if (this.fd !== fd) return; // a listener stopped the driver
      }
    }
  }

  private lost(reason: string): void {
    this.close();
    this.state = { connected: false, grabbed: false, device: this.deps.path, note: reason };
    this.emit('disconnected', reason);
    this.schedule();
  }

  private schedule(): void {
    if (!this.started || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      if (this.started) void this.tryOpen();
    }, this.deps.reconnectMs ?? DEFAULT_RECONNECT_MS);
  }

  private close(): void {
    this.generation++;
    const { fd, epoll } = this;
    this.fd = undefined;
    this.epoll = undefined;
    if (epoll && fd !== undefined) {
      try {
        epoll.remove(fd);
      } catch {}
    }
    try {
      epoll?.close();
    } catch {}
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {}
    }
  }
}

function loadEpoll(): EpollClass {
  try {
    const mod = createRequire(import.meta.url)('epoll') as { Epoll: EpollClass };
    return mod.Epoll;
  } catch (err) {
    throw new KeypadError('EOPEN', `loading the epoll module: ${(err as Error).message}`);
  }
}
