/**
 * Block-device change events from the kernel and udev: `udevadm monitor --kernel --udev
 * --subsystem-match=block` as a child process (netlink underneath), one line per event:
 *
 *   KERNEL[1234.567890] add      /devices/.../block/sdb (block)
 *   UDEV  [1234.601234] add      /devices/.../block/sdb (block)
 *
 * KERNEL lines come as the kernel announces a device; UDEV lines after udev's rules ran
 * (the /dev/disk/by-path links exist then). Where no udev daemon runs (a container, a
 * minimal VM) only KERNEL lines come. Lines that do not parse (the header, garbage) are
 * ignored. The child is restarted if it dies (1 s, doubling to 30 s; a run that lasted a
 * minute resets the delay); after `maxQuickFailures` runs that each ended within 5 s the
 * monitor gives up with 'unavailable' (so does a missing udevadm), and the caller polls.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';

export interface UdevEvent {
  source: 'KERNEL' | 'UDEV';
  action: string;
  devpath: string;
  subsystem: string;
}

export interface UdevMonitorEvents {
  event: [e: UdevEvent];
  /**
   * The child (re)started and listens: its header is out (udevadm prints it as it binds its
   * netlink sockets; an empty line ends it), or its first event came. Events may have been
   * missed before it; look again (a look taken now misses nothing).
   */
  started: [];
  /** Monitoring is not possible here (no udevadm, or it keeps failing); no more events. */
  unavailable: [reason: string];
}

export interface UdevMonitorOptions {
  /** Default `udevadm`. */
  command?: string;
  /** Subsystems to watch. Default `['block']`. */
  subsystems?: string[];
  /** Runs that end within 5 s, in a row, before giving up. Default 5. */
  maxQuickFailures?: number;
  /** First restart delay; doubles to `maxRestartMs`. Defaults 1000 / 30 000 ms. */
  restartMs?: number;
  maxRestartMs?: number;
}

/** What the drive watcher needs of a monitor (tests inject a stand-in). */
export interface UdevSource {
  start(): void;
  stop(): void;
  on(event: 'event', listener: (e: UdevEvent) => void): unknown;
  on(event: 'started', listener: () => void): unknown;
  on(event: 'unavailable', listener: (reason: string) => void): unknown;
  off(event: 'event', listener: (e: UdevEvent) => void): unknown;
  off(event: 'started', listener: () => void): unknown;
  off(event: 'unavailable', listener: (reason: string) => void): unknown;
}

const LINE = /^(KERNEL|UDEV)\s*\[\s*\d+(?:\.\d+)?\]\s+(\S+)\s+(\/\S*)\s+\((\S+)\)\s*$/;

/** One monitor line, or undefined for anything else. */
export function parseUdevLine(line: string): UdevEvent | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return {
    source: m[1] as 'KERNEL' | 'UDEV',
    action: m[2] as string,
    devpath: m[3] as string,
    subsystem: m[4] as string,
  };
}

export class UdevMonitor extends EventEmitter<UdevMonitorEvents> {
  #child: ChildProcess | undefined;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #delay: number;
  #quickFailures = 0;

  constructor(private readonly opts: UdevMonitorOptions = {}) {
    super();
    this.#delay = opts.restartMs ?? 1000;
  }

  /** Starts the child; events follow. Idempotent; never throws (see 'unavailable'). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#spawn();
  }

  /** Stops the child and any pending restart. Idempotent. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const c = this.#child;
    this.#child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }

  #spawn(): void {
    const args = [
      'monitor',
      '--kernel',
      '--udev',
      ...(this.opts.subsystems ?? ['block']).map((s) => `--subsystem-match=${s}`),
    ];
    const startedAt = Date.now();
    let child: ChildProcess;
    try {
      child = spawn(this.opts.command ?? 'udevadm', args, {
        stdio: ['ignore', 'pipe', 'ignore'],
        env: { ...process.env, LC_ALL: 'C' },
      });
    } catch (err) {
      this.#giveUp(`cannot start udevadm: ${(err as Error).message}`);
      return;
    }
    this.#child = child;
    let buf = '';
    let listening = false;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      if (buf.length > 64 * 1024) buf = ''; // no newline in 64 KiB: not udevadm's output
      for (const line of lines) {
        const e = parseUdevLine(line);
        // Not at spawn: until udevadm has bound its sockets, a change is seen by nobody.
        if (!listening && (e || line === '')) {
          listening = true;
          this.emit('started');
        }
        if (e) this.emit('event', e);
      }
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') this.#giveUp('udevadm is not installed (package udev)');
    });
    child.once('close', (code, signal) => {
      if (this.#child !== child) return; // stopped, or already handled
      this.#child = undefined;
      if (!this.#running) return;
      const lived = Date.now() - startedAt;
      if (lived >= 60_000) this.#delay = this.opts.restartMs ?? 1000;
      this.#quickFailures = lived < 5000 ? this.#quickFailures + 1 : 0;
      if (this.#quickFailures >= (this.opts.maxQuickFailures ?? 5)) {
        this.#giveUp(`udevadm monitor keeps exiting (last: ${signal ?? `exit ${code}`})`);
        return;
      }
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#running) this.#spawn();
      }, this.#delay);
      this.#delay = Math.min(this.#delay * 2, this.opts.maxRestartMs ?? 30_000);
    });
  }

  #giveUp(reason: string): void {
    if (!this.#running) return;
    this.stop();
    this.emit('unavailable', reason);
  }
}
