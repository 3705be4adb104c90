/**
 * systemd integration for `Type=notify` units: READY=1 once kioskd is up, WATCHDOG=1 from
 * the event loop every WATCHDOG_USEC/2, STOPPING=1 on stop. Node cannot send on a Unix
 * datagram socket, so each message is sent by spawning `systemd-notify` (the unit sets
 * NotifyAccess=all, which accepts messages from that child). Does nothing unless
 * NOTIFY_SOCKET is set. A failed send is logged, never thrown: systemd's own timeouts
 * (TimeoutStartSec, WatchdogSec) are the safety net.
 */
import { spawn } from 'node:child_process';
import type { KioskLogger } from './log.js';

export interface SystemdNotifierDeps {
  env?: Record<string, string | undefined>;
  log: KioskLogger;
  /** The binary; default `systemd-notify`. */
  binary?: string;
}

export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;
  private readonly env: Record<string, string | undefined>;

  constructor(private readonly deps: SystemdNotifierDeps) {
    this.env = deps.env ?? process.env;
  }

  /** True when running under a notify-type unit (NOTIFY_SOCKET set). */
  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  /** The watchdog ping interval in ms (WATCHDOG_USEC / 2), or null when no watchdog is set. */
  get watchdogIntervalMs(): number | null {
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0) return null;
    const pid = this.env.WATCHDOG_PID;
    if (pid && Number(pid) !== process.pid) return null;
    return Math.max(1, Math.floor(usec / 2000));
  }

  /** Sends READY=1 and starts watchdog pings. Resolves when systemd-notify has exited. */
  async ready(status = 'running'): Promise<void> {
    await this.send(['--ready', `--status=${status}`]);
    const every = this.watchdogIntervalMs;
    if (every !== null && !this.timer) {
      // Pinged from the event loop: a blocked loop misses pings and systemd restarts us.
      this.timer = setInterval(() => void this.send(['WATCHDOG=1']), every);
      this.timer.unref();
    }
  }

  /** Stops the pings and sends STOPPING=1. */
  async stopping(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.send(['STOPPING=1']);
  }

  /** Sends STATUS=<text> (shown by systemctl status). */
  status(text: string): Promise<void> {
    return this.send([`--status=${text}`]);
  }

  private send(args: string[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return new Promise((resolve) => {
      const child = spawn(this.deps.binary ?? 'systemd-notify', args, {
        env: { ...process.env, ...this.env } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr?.on('data', (d: Buffer) => {
        err = (err + d.toString()).slice(-500);
      });
      child.once('error', (e) => {
        this.deps.log.warn({ err: e.message, args }, 'systemd-notify could not run');
        resolve();
      });
      child.once('close', (code) => {
        if (code !== 0) this.deps.log.warn({ code, err, args }, 'systemd-notify failed');
        resolve();
      });
    });
  }
}
