/**
 * One simulated kiosk run the way a Pi runs it: `node bin/kioskd.js --config <file>` as a
 * CHILD process, its slot board the byte-level simulator behind a real pty (socat; a Unix
 * socket where socat is missing) that lives in THIS process (so the orchestrator can play the person who takes or returns a
 * disk), its disks loop devices or directories given by the caller, its secret and the
 * hub's public key in files as enrolment leaves them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BoardSimulator, startPtySimulator } from '../../hal/motor-board/pty-sim.js';
import type { MotorBoardSim } from '../../hal/motor-board/sim.js';
import { startSocketSimulator } from '../../hal/motor-board/socket-sim.js';
import { databasePath, type KioskConfig, parseConfig } from '../../kiosk/config.js';
import { ensureIdentity, openDb } from '../../kiosk/db/open-db.js';
import { silentLogger } from '../../kiosk/log.js';
import { stockSlot, upsertDisk } from '../../kiosk/returns/stock.js';
import { SlotStore } from '../../kiosk/slots/slot-store.js';
import { HubClock } from '../../kiosk/state/clock.js';
import { Outbox } from '../../kiosk/state/outbox.js';
import type { HubApi, Json } from './api-client.js';
import type { DemoDisk } from './sim-disks.js';
import { DemoError, waitFor } from './wait.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Stops a kioskd left running by a demo that was killed (SIGKILL gives it no chance to
 * clean up): the pid recorded in `<kioskDir>/kioskd.pid`, only if that process still runs
 * with this directory's config file. Returns whether one was stopped.
 */
export function stopStaleKioskd(kioskDir: string): boolean {
  const pidFile = path.join(kioskDir, 'kioskd.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (!pid) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmd.includes(path.join(kioskDir, 'kioskd.json'))) return false;
    process.kill(pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

/** What one slot holds when the kiosk first starts. */
export type SlotPlan =
  /**
   * A disk registered as ready to rent with this content, the files NOT copied onto it (fast
   * stock for tests; scripts/lib/stock.ts). Real stock: a `blank` disk and kioskd's pre-staging.
   */
  | { slot: number; kind: 'ready'; disk: DemoDisk; contentId: string; contentVersion: string }
  /** A blank disk, `loaded`: PrepareDisk formats, copies and verifies it for a reservation. */
  | { slot: number; kind: 'blank'; disk: DemoDisk }
  /**
   * An empty slot whose USB port will show `disk` once a person pushes it in (a return):
   * the drives simulator knows the disk, the board's sensor says empty until insert().
   */
  | { slot: number; kind: 'return-bay'; disk: DemoDisk };

export interface DemoKioskOptions {
  kioskId: string;
  /** The kiosk's own directory: config, secret, data, pty links, mountpoints, log. */
  dir: string;
  hubWsUrl: string;
  /** PEM file of a private CA kioskd trusts for the hub's TLS (`hub.caFile`). */
  hubCaFile?: string;
  /** Further hub URLs, tried in turn after `hubWsUrl` fails (kioskd's `hub.urls`). */
  hubUrls?: string[];
  secret: string;
  hubPublicKeyPem: string;
  slotCount: number;
  slots: SlotPlan[];
  /** Real storage (mkfs.exfat, mount) for loop devices; the storage simulator for directories. */
  storage: 'real' | 'sim';
  /** Extra top-level config keys kioskd understands (e.g. `cloning` timings). */
  extraConfig?: Record<string, unknown>;
  /** kioskd log level (its JSON log goes to `<dir>/kioskd.log`). Default 'info'. */
  logLevel?: KioskConfig['logLevel'];
  pickupWindowSeconds?: number;
  /** Program run as kioskd (default bin/kioskd.js; a `.ts` file runs through tsx). */
  entry?: string;
  /** Extra environment of the child. */
  env?: Record<string, string>;
  /**
   * How kioskd reaches the board simulator: a pty pair made by socat (as a serial adapter),
   * or a Unix socket (where socat is not installed). Default 'pty'.
   */
  boardLink?: 'pty' | 'socket';
  /** Board simulator motor timings (ms). Default 300 each, as a real slot motor. */
  ejectMs?: number;
  retractMs?: number;
  /**
   * The pickup-code keypad (`hardware.keypad`; default none): the simulator listening on a
   * Unix socket (`typeOnKeypad` writes digits to it), or the REAL driver on `path` (a FIFO the
   * caller feeds with input_event records, since this machine has no uinput).
   */
  keypad?:
    | { driver: 'sim'; socketPath: string }
    | { driver: 'real'; path: string; reconnectMs?: number };
}

/**
 * start(): writes the config and credential files, records the initial stock in the
 * kiosk's database (as a technician's stocking would), starts the pty board simulator and
 * the kioskd child. stop(): SIGTERM, SIGKILL after the grace period, then closes the
 * simulator (socat). Disks belong to the caller (they may be shared between kiosks).
 */
export class DemoKiosk {
  readonly kioskId: string;
  readonly configFile: string;
  readonly logFile: string;
  board!: BoardSimulator;
  proc: ChildProcess | undefined;
  private exited: Promise<number | string> | undefined;
  private starting: Promise<void> | undefined;
  private tail = '';

  constructor(readonly opts: DemoKioskOptions) {
    this.kioskId = opts.kioskId;
    this.configFile = path.join(opts.dir, 'kioskd.json');
    this.logFile = path.join(opts.dir, 'kioskd.log');
  }

  /** The board simulator: `sim.takeDisk(slot)`, `sim.insertDisk(slot)`, `sim.sensors(slot)`, `sim.record`. */
  get sim(): MotorBoardSim {
    return this.board.sim;
  }

  /** The last ~20 kB of kioskd's stdout/stderr (for failure messages). */
  output(): string {
    return this.tail;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const o = this.opts;
    await mkdir(path.join(o.dir, 'data'), { recursive: true });
    stopStaleKioskd(o.dir);
    const secretFile = path.join(o.dir, 'secret');
    const publicKeyFile = path.join(o.dir, 'hub-public-key.pem');
    writeFileSync(secretFile, o.secret, { mode: 0o600 });
    writeFileSync(publicKeyFile, o.hubPublicKeyPem);
    const startBoard = o.boardLink === 'socket' ? startSocketSimulator : startPtySimulator;
    this.board = await startBoard({
      dir: o.dir,
      slots: o.slotCount,
      loaded: o.slots.filter((s) => s.kind !== 'return-bay').map((s) => s.slot),
      ejectMs: o.ejectMs ?? 300,
      retractMs: o.retractMs ?? 300,
    });
    const disks: Record<string, unknown> = {};
    for (const s of o.slots) disks[String(s.slot)] = s.disk.spec();
    const raw = {
      kioskId: o.kioskId,
      dataDir: path.join(o.dir, 'data'),
      hub: {
        url: o.hubWsUrl,
        secretFile,
        publicKeyFile,
        ...(o.hubCaFile ? { caFile: o.hubCaFile } : {}),
        ...(o.hubUrls ? { urls: o.hubUrls } : {}),
        backoff: { baseMs: 250, capMs: 3000, stableSeconds: 10 },
      },
      slots: { count: o.slotCount },
      hardware: {
        motorBoard: { driver: 'real', path: this.board.path },
        gpio: { driver: 'sim' },
        usb: { driver: 'sim' },
        drives: { driver: 'sim', pollIntervalMs: 250, disks },
        storage: { driver: o.storage, mountRoot: path.join(o.dir, 'mnt') },
        ...(o.keypad ? { keypad: o.keypad } : {}),
      },
      dispense: { pickupWindowSeconds: o.pickupWindowSeconds ?? 60 },
      logLevel: o.logLevel ?? 'info',
      maintenanceSocket: path.join(o.dir, 'kioskd.sock'),
      ...o.extraConfig,
    };
    const config = parseConfig(raw, { env: {} }); // fails here, naming the key, not in the child
    writeFileSync(this.configFile, `${JSON.stringify(raw, null, 2)}\n`);
    this.stock(config);
    this.spawn();
  }

  /** Records the initial stock in kioskd's database before its first start. */
  private stock(config: KioskConfig): void {
    const file = databasePath(config);
    if (existsSync(file)) return; // a restart keeps what the kiosk knows
    const db = openDb({ file });
    try {
      ensureIdentity(db, config.kioskId);
      const clock = new HubClock({ db });
      const outbox = new Outbox({ db, clock });
      const slots = new SlotStore({ db, outbox, clock, log: silentLogger() });
      slots.ensureSlots(config.slots.count);
      for (const s of this.opts.slots) {
        const diskId = `disk-${s.disk.name}`;
        if (s.kind === 'ready') {
          stockSlot(
            { db, slots, clock },
            {
              slot: s.slot,
              disk: {
                diskId,
                usbSerial: s.disk.serial,
                capacityBytes: s.disk.sizeBytes,
                contentId: s.contentId,
                contentVersion: s.contentVersion,
                writeProtected: false,
              },
            },
          );
        } else if (s.kind === 'blank') {
          slots.transition({
            slot: s.slot,
            from: 'empty',
            to: 'loaded',
            reason: 'stocked with a blank disk',
            set: { diskId },
            also: (d) =>
              upsertDisk(
                d,
                clock,
                { diskId, usbSerial: s.disk.serial, capacityBytes: s.disk.sizeBytes },
                s.slot,
              ),
          });
        }
      }
    } finally {
      db.close();
    }
  }

  private spawn(): void {
    const entry = this.opts.entry ?? path.join(ROOT, 'bin/kioskd.js');
    const proc = spawn(
      process.execPath,
      [...(/\.m?ts$/.test(entry) ? ['--import', 'tsx'] : []), entry, '--config', this.configFile],
      { cwd: ROOT, env: { ...process.env, ...this.opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = proc;
    writeFileSync(path.join(this.opts.dir, 'kioskd.pid'), String(proc.pid ?? ''));
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const keep = (d: Buffer) => {
      this.tail = (this.tail + d.toString()).slice(-20_000);
      log.write(d);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        log.end();
        resolve(signal ?? code ?? -1);
      });
    });
  }

  /**
   * Kills the kioskd child only (default SIGKILL: a crash or power cut); the board
   * simulator and the disks stay as they are. Resolves once it has exited.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running()) this.proc?.kill(signal);
    await this.exited;
  }

  /** Starts the kioskd child again on the same config and database (after kill() or a crash). */
  respawn(): void {
    if (this.running()) throw new DemoError('ESTART', `kioskd ${this.kioskId} is still running`);
    this.spawn();
  }

  /**
   * Types `text` on the simulated keypad (`keypad.driver: 'sim'`): one key per character
   * (hal/keypad keyOfChar), written to its Unix socket. Resolves once the bytes were sent;
   * rejects when kioskd is not listening (stopped, or not started yet).
   */
  async typeOnKeypad(text: string): Promise<void> {
    const k = this.opts.keypad;
    if (k?.driver !== 'sim')
      throw new DemoError('ESTART', `kioskd ${this.kioskId} has no simulated keypad`);
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(k.socketPath, () => s.end(text, 'latin1'));
      s.once('error', reject);
      s.once('close', () => resolve());
    });
  }

  /** True while the child runs. */
  running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /**
   * Waits until the hub shows the kiosk connected with a full inventory (operator API).
   * Rejects with ESTART (and kioskd's last output) if the child exits, ETIMEOUT otherwise.
   */
  async waitConnected(
    api: HubApi,
    adminToken: string,
    timeoutMs = 30_000,
    signal?: AbortSignal,
  ): Promise<void> {
    await waitFor(
      `${this.kioskId} to connect to the hub`,
      async () => {
        if (!this.running()) {
          throw new DemoError(
            'ESTART',
            `kioskd ${this.kioskId} exited (${this.proc?.exitCode ?? this.proc?.signalCode}); its log is ${this.logFile}:\n${this.tail.slice(-3000)}`,
          );
        }
        const r = await api.call('GET', `/api/operator/kiosks/${this.kioskId}`, undefined, {
          token: adminToken,
        });
        const k: Json = r.body?.kiosk;
        return r.status === 200 && k?.connected && (k.slots?.length ?? 0) >= this.opts.slotCount;
      },
      { timeoutMs, intervalMs: 200, signal },
    );
  }

  /** SIGTERM, SIGKILL after `graceMs`; then the board simulator (socat) is closed. Idempotent; waits for a start() in progress first. */
  async stop(graceMs = 8000): Promise<number | string | undefined> {
    // A stop during start() (a signal) waits for it, so what it started is stopped too.
    await this.starting?.catch(() => undefined);
    let how: number | string | undefined;
    if (this.proc && this.exited) {
      if (this.running()) {
        this.proc.kill('SIGTERM');
        const timer = setTimeout(() => this.proc?.kill('SIGKILL'), graceMs);
        how = await this.exited;
        clearTimeout(timer);
      } else {
        how = await this.exited;
      }
    }
    await this.board?.close();
    return how;
  }
}
