/**
 * RAUC, through its command-line client (`rauc`), which talks to RAUC's D-Bus service (root;
 * the image's D-Bus policy lets kioskd's group in): status, install with progress, mark good,
 * mark the other slot bad, and the local `rauc info` check of a bundle. The environment is
 * passed through (tests point DBUS_STARTER_BUS_TYPE/DBUS_SESSION_BUS_ADDRESS at a private bus).
 */
import { spawn } from 'node:child_process';
import { CodedError } from '../../common/coded-error.js';

export class RaucError extends CodedError<'ENORAUC' | 'ERAUC' | 'EABORTED'> {}

export interface RaucSlot {
  /** RAUC's slot name, e.g. `rootfs.1`. */
  name: string;
  /** `A` or `B` (the backend's bootname). */
  bootname: string;
  /** `booted`, `active`, `inactive`. */
  state: string;
  /** `good` or `bad` (what the backend says the firmware may start). */
  bootStatus: string | undefined;
  /** The version of the bundle RAUC installed there, when it installed one. */
  bundleVersion: string | undefined;
}

export interface RaucStatus {
  compatible: string;
  /** The booted slot's bootname. */
  booted: string;
  /** The bootname of the slot the next boot the updater starts uses (RAUC's "Activated"). */
  primary: string | undefined;
  slots: RaucSlot[];
}

export interface RaucClientOptions {
  /** The rauc executable; default `rauc`. */
  command?: string;
  /** RAUC's system.conf for the local `rauc info` (default: rauc's own, /etc/rauc/system.conf). */
  confFile?: string;
  env?: Record<string, string | undefined>;
  /** Time limit of status and mark calls (not of install); default 60 s. */
  timeoutMs?: number;
  /** Runs the rauc client (tests inject a fake RAUC); default spawns `command`. */
  runner?: RaucRunner;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** 0 = none. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Each line of stdout as it comes (install progress). */
  onLine?: ((line: string) => void) | undefined;
}

/** One run of the rauc client with `args`: its exit code and output. */
export type RaucRunner = (args: string[], o: RunOptions) => Promise<RunResult>;

export class RaucClient {
  constructor(private readonly opts: RaucClientOptions = {}) {}

  /** `rauc status --detailed --output-format=json`. Rejects ENORAUC / ERAUC. */
  async status(): Promise<RaucStatus> {
    const r = await this.run(['status', '--detailed', '--output-format=json']);
    this.check(r, 'rauc status');
    return parseStatus(r.stdout);
  }

  /**
   * `rauc install FILE`: RAUC checks the signature against its keyring, writes the inactive
   * slot and activates it (the backend's tryboot.txt). `onProgress` gets RAUC's percentages.
   * Resolves when RAUC reports success; rejects ERAUC with RAUC's last error. No time limit
   * (writing 2 GB to an SD card takes minutes); `signal` kills the client (RAUC's service
   * carries on and the slot stays marked bad).
   */
  async install(
    bundle: string,
    opts: { onProgress?: (percent: number, message: string) => void; signal?: AbortSignal } = {},
  ): Promise<void> {
    let tail = '';
    const r = await this.run(['install', bundle], {
      timeoutMs: 0,
      signal: opts.signal,
      onLine: (line) => {
        const m = /^\s*(\d{1,3})% (.*)$/.exec(line);
        if (m) opts.onProgress?.(Math.min(100, Number(m[1])), (m[2] ?? '').trim());
        if (/^LastError: /.test(line)) tail = line.slice('LastError: '.length);
      },
    });
    if (r.code !== 0) {
      if (opts.signal?.aborted) throw new RaucError('EABORTED', 'rauc install cancelled');
      const why = tail || lastLine(r.stderr) || lastLine(r.stdout) || `exit ${r.code}`;
      throw new RaucError('ERAUC', `rauc install ${bundle} failed: ${why}`);
    }
  }

  /** `rauc status mark-good booted`: on a trial boot this commits the slot. */
  async markGood(): Promise<void> {
    this.check(await this.run(['status', 'mark-good', 'booted']), 'rauc status mark-good');
  }

  /** `rauc status mark-bad other`: acknowledges a failed trial (drops tryboot.txt). */
  async markBadOther(): Promise<void> {
    this.check(await this.run(['status', 'mark-bad', 'other']), 'rauc status mark-bad other');
  }

  /**
   * `rauc info` of a bundle (computed by the client, no service): its signature against the
   * keyring of system.conf, and its manifest. Resolves with compatible and version.
   */
  async info(bundle: string): Promise<{ compatible: string; version: string }> {
    const conf = this.opts.confFile ? [`--conf=${this.opts.confFile}`] : [];
    const r = await this.run([...conf, 'info', '--output-format=json', bundle]);
    this.check(r, `rauc info ${bundle}`);
    const j = JSON.parse(r.stdout) as { compatible?: string; version?: string };
    if (!j.compatible || !j.version)
      throw new RaucError('ERAUC', `rauc info ${bundle}: no compatible or version in its manifest`);
    return { compatible: j.compatible, version: j.version };
  }

  private check(r: RunResult, what: string): void {
    if (r.code === 0) return;
    throw new RaucError(
      'ERAUC',
      `${what} failed (exit ${r.code}): ${lastLine(r.stderr) || lastLine(r.stdout) || 'no output'}`,
    );
  }

  private run(
    args: string[],
    o: { timeoutMs?: number; signal?: AbortSignal | undefined; onLine?: (l: string) => void } = {},
  ): Promise<RunResult> {
    const run = this.opts.runner ?? spawnRauc(this.opts.command ?? 'rauc', this.opts.env);
    return run(args, { ...o, timeoutMs: o.timeoutMs ?? this.opts.timeoutMs ?? 60_000 });
  }
}

/** The real client: spawns `command` (the environment passed through, `env` added). */
export function spawnRauc(
  command: string,
  env: Record<string, string | undefined> = {},
): RaucRunner {
  return (args, o) =>
    new Promise((resolve, reject) => {
      const child = spawn(command, args, {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let partial = '';
      child.stdout.on('data', (d: Buffer) => {
        const s = d.toString('utf8');
        stdout += s;
        if (!o.onLine) return;
        partial += s;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) o.onLine(l);
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString('utf8')).slice(-16_384);
      });
      const limit = o.timeoutMs;
      const timer = limit > 0 ? setTimeout(() => child.kill('SIGKILL'), limit) : undefined;
      const onAbort = () => child.kill('SIGTERM');
      o.signal?.addEventListener('abort', onAbort, { once: true });
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        reject(
          err.code === 'ENOENT'
            ? new RaucError(
                'ENORAUC',
                `${command} is not installed: updates need RAUC (apt-get install rauc rauc-service)`,
              )
            : new RaucError('ERAUC', `cannot run ${command}: ${err.message}`),
        );
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (partial && o.onLine) o.onLine(partial);
        resolve({ code, stdout, stderr });
      });
    });
}

const lastLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? '';

/** `rauc status --detailed --output-format=json` (RAUC 1.8) to RaucStatus. */
export function parseStatus(json: string): RaucStatus {
  const j = JSON.parse(json) as {
    compatible: string;
    booted: string;
    boot_primary: string | null;
    slots: Array<
      Record<
        string,
        {
          bootname?: string;
          state: string;
          boot_status?: string;
          slot_status?: { bundle?: { version?: string } };
        }
      >
    >;
  };
  const slots: RaucSlot[] = j.slots.flatMap((entry) =>
    Object.entries(entry).map(([name, v]) => ({
      name,
      bootname: v.bootname ?? '',
      state: v.state,
      bootStatus: v.boot_status,
      bundleVersion: v.slot_status?.bundle?.version,
    })),
  );
  const primary = slots.find((s) => s.name === j.boot_primary)?.bootname;
  return { compatible: j.compatible, booted: j.booted, primary, slots };
}
