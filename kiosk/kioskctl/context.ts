/** What every kioskctl command shares: options, configuration, the daemon connection, output. */
import { type KioskConfig, loadConfig } from '../config.js';
import { MaintenanceError } from '../maintenance-wire.js';
import { type CallOptions, MaintenanceClient } from './client.js';
import type { CliIo } from './io.js';

export const DEFAULT_CONFIG = '/etc/disk-kiosk/kioskd.json';
export const DEFAULT_SOCKET = '/run/disk-kiosk/kioskd.sock';

/** Commands that work while kioskd is down. */
export const OFFLINE_COMMANDS = 'status, slots, config show|set, logs, enrol, qr, diag';

export interface GlobalOptions {
  json?: boolean;
  config?: string;
  socket?: string;
}

export class CliContext {
  exitCode = 0;
  private cfg: KioskConfig | undefined;
  opts: GlobalOptions = {};

  constructor(readonly io: CliIo) {}

  get json(): boolean {
    return Boolean(this.opts.json);
  }

  get configFile(): string {
    return this.opts.config ?? this.io.env.KIOSKCTL_CONFIG ?? DEFAULT_CONFIG;
  }

  /** The validated kioskd configuration (throws MaintenanceError ECONFIG naming the file). */
  config(): KioskConfig {
    if (!this.cfg) {
      try {
        this.cfg = loadConfig(this.configFile, { env: this.io.env });
      } catch (err) {
        throw new MaintenanceError('ECONFIG', (err as Error).message);
      }
    }
    return this.cfg;
  }

  /** --socket, KIOSKCTL_SOCKET, the config's maintenanceSocket, or the default. */
  socketPath(): string {
    if (this.opts.socket) return this.opts.socket;
    if (this.io.env.KIOSKCTL_SOCKET) return this.io.env.KIOSKCTL_SOCKET;
    try {
      return this.config().maintenanceSocket;
    } catch {
      return DEFAULT_SOCKET;
    }
  }

  /** Connects, runs `fn`, closes. Rejects with EDAEMONDOWN / EACCES from the client. */
  async withDaemon<T>(fn: (c: MaintenanceClient) => Promise<T>): Promise<T> {
    const client = await MaintenanceClient.connect(this.socketPath(), {
      user: this.io.env.KIOSKCTL_USER,
    });
    try {
      return await fn(client);
    } finally {
      client.close();
    }
  }

  /** One call to kioskd; Ctrl-C (SIGINT) cancels it on the daemon side too. */
  call<T>(
    method: string,
    params: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): Promise<T> {
    return this.withDaemon(async (c) => {
      const abort = new AbortController();
      const onSig = () => abort.abort();
      process.once('SIGINT', onSig);
      try {
        return await c.call<T>(method, params, { ...opts, signal: abort.signal });
      } finally {
        process.off('SIGINT', onSig);
      }
    });
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  err(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Prints `value` as JSON with --json, else the human text. */
  print(value: unknown, human: () => string): void {
    if (this.json) this.out(JSON.stringify(value, null, 2));
    else this.out(human());
  }

  /** Reports a failure (JSON on stdout with --json) and sets a non-zero exit code. */
  fail(err: unknown, code = 1): void {
    const e = err as { code?: string; message?: string };
    const codeStr = typeof e?.code === 'string' ? e.code : 'EFAILED';
    const message = e?.message ?? String(err);
    if (this.json) this.out(JSON.stringify({ error: { code: codeStr, message } }, null, 2));
    this.err(`kioskctl: ${message}`);
    if (codeStr === 'EDAEMONDOWN')
      this.err(`Commands that work without kioskd: ${OFFLINE_COMMANDS}.`);
    this.exitCode = code;
  }
}
