/**
 * kioskctl's side of the maintenance socket: connect, send requests, receive progress,
 * prompts and the final answer.
 */
import net from 'node:net';
import os from 'node:os';
import { lineSplitter, MaintenanceError, type WireReply } from '../maintenance-wire.js';

export interface CallOptions {
  onProgress?: (p: Record<string, unknown>) => void;
  onPrompt?: (text: string) => void;
  /** Aborting sends a cancel to kioskd and rejects with ECANCELED. */
  signal?: AbortSignal;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  opts: CallOptions;
}

/** The user name recorded in the audit trail (SUDO_USER when run through sudo). */
export function technicianName(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SUDO_USER) return env.SUDO_USER;
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? `uid-${process.getuid?.() ?? '?'}`;
  }
}

/** Turns a connect error into the sentence a technician needs. */
export function connectError(socketPath: string, err: NodeJS.ErrnoException): MaintenanceError {
  switch (err.code) {
    case 'ENOENT':
      return new MaintenanceError(
        'EDAEMONDOWN',
        `kioskd is not running (no socket at ${socketPath})`,
      );
    case 'ECONNREFUSED':
      return new MaintenanceError(
        'EDAEMONDOWN',
        `kioskd is not running (socket ${socketPath} exists but nobody answers)`,
      );
    case 'EACCES':
    case 'EPERM':
      return new MaintenanceError(
        'EACCES',
        `permission denied on ${socketPath}: run kioskctl as root (sudo) or as a member of the kiosk-tech group`,
      );
    default:
      return new MaintenanceError(
        err.code ?? 'ECONNECT',
        `cannot reach kioskd at ${socketPath}: ${err.message}`,
      );
  }
}

export class MaintenanceClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly sock: net.Socket,
    private readonly user: string,
  ) {
    sock.on(
      'data',
      lineSplitter(
        (line) => this.onLine(line),
        () => this.failAll(new MaintenanceError('EPROTOCOL', 'kioskd sent an over-long line')),
      ),
    );
    sock.on('close', () =>
      this.failAll(
        new MaintenanceError(
          'EDISCONNECTED',
          'kioskd closed the maintenance connection (did it stop?)',
        ),
      ),
    );
    sock.on('error', () => {});
  }

  /** Connects to the socket; rejects with EDAEMONDOWN, EACCES or ETIMEOUT (`timeoutMs`, default 3000). */
  static connect(
    socketPath: string,
    opts: { timeoutMs?: number; user?: string } = {},
  ): Promise<MaintenanceClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(
          new MaintenanceError(
            'ETIMEOUT',
            `kioskd did not accept a connection on ${socketPath} in time`,
          ),
        );
      }, opts.timeoutMs ?? 3000);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.off('error', onError);
        resolve(new MaintenanceClient(sock, opts.user ?? technicianName()));
      });
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectError(socketPath, err));
      };
      sock.once('error', onError);
    });
  }

  /** Sends one request; resolves with its result or rejects with MaintenanceError(code). */
  call<T = unknown>(
    method: string,
    params: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.sock.destroyed) {
        reject(new MaintenanceError('EDISCONNECTED', 'not connected to kioskd'));
        return;
      }
      const onAbort = () => {
        this.sock.write(`${JSON.stringify({ id, cancel: true })}\n`);
        this.pending.delete(id);
        reject(new MaintenanceError('ECANCELED', `${method} cancelled`));
      };
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (e) => {
          opts.signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
        opts,
      });
      this.sock.write(`${JSON.stringify({ id, method, params, user: this.user })}\n`);
    });
  }

  close(): void {
    this.sock.end();
    this.sock.destroy();
  }

  private onLine(line: string): void {
    let msg: WireReply;
    try {
      msg = JSON.parse(line) as WireReply;
    } catch {
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    if ('progress' in msg) p.opts.onProgress?.(msg.progress);
    else if ('prompt' in msg) p.opts.onPrompt?.(msg.prompt);
    else {
      this.pending.delete(msg.id);
      if ('error' in msg) p.reject(new MaintenanceError(msg.error.code, msg.error.message));
      else p.resolve(msg.result);
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
