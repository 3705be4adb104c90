/**
 * cloud-lite as a CHILD process (`node bin/cloud-lite.js --config <file>`), so the
 * simulation can kill and restart it on the same database and port, as a crashed or
 * redeployed server. Its JSON log goes to `<dir>/hub.log`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HubApi } from '../lib/api-client.js';
import { DemoError, waitFor } from '../lib/wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface HubProcessOptions {
  dir: string;
  adminToken: string;
  /** Extra configuration keys (merged over the defaults; `rental` merged one level deep). */
  config?: Record<string, unknown>;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class HubProcess {
  readonly configFile: string;
  readonly databasePath: string;
  readonly signingKeyPath: string;
  readonly logFile: string;
  /** The cloud-lite program (bin/cloud-lite.js). */
  readonly entry = path.join(ROOT, 'bin/cloud-lite.js');
  port = 0;
  api!: HubApi;
  private proc: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;
  private tail = '';

  constructor(readonly opts: HubProcessOptions) {
    this.configFile = path.join(opts.dir, 'hub.json');
    this.databasePath = path.join(opts.dir, 'hub.db');
    this.signingKeyPath = path.join(opts.dir, 'hub-signing-key.pem');
    this.logFile = path.join(opts.dir, 'hub.log');
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get privateKeyPem(): string {
    return readFileSync(this.signingKeyPath, 'utf8');
  }

  /** Writes the config (first call picks the port) and starts the child; resolves when it answers HTTP. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (!this.port) {
      await mkdir(this.opts.dir, { recursive: true });
      this.port = await freePort();
      const extra = this.opts.config ?? {};
      const config = {
        host: '127.0.0.1',
        port: this.port,
        databasePath: this.databasePath,
        signingKeyPath: this.signingKeyPath,
        adminToken: this.opts.adminToken,
        logLevel: 'info',
        ...extra,
      };
      writeFileSync(this.configFile, `${JSON.stringify(config, null, 2)}\n`);
      this.api = new HubApi(this.baseUrl, { timeoutMs: 10_000 });
    }
    const proc = spawn(process.execPath, [this.entry, '--config', this.configFile], {
      cwd: ROOT,
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const keep = (d: Buffer) => {
      this.tail = (this.tail + d.toString()).slice(-8000);
      log.write(d);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      proc.once('exit', (c, s) => {
        log.end();
        resolve(s ?? c);
      }),
    );
    await waitFor(
      'cloud-lite to answer HTTP',
      async () => {
        if (!this.running())
          throw new DemoError(
            'ESTART',
            `cloud-lite exited; its log ends:\n${this.tail.slice(-2000)}`,
          );
        const r = await this.api.call('GET', '/api/content').catch(() => undefined);
        return r?.status === 200;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after 10 s of a graceful stop). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.proc || !this.running()) return;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
  }
}
