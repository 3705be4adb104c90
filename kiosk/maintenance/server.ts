/**
 * kioskd's maintenance socket (kioskctl's only way in). Line-delimited JSON
 * (kiosk/maintenance-wire.ts) over a Unix stream socket at `config.maintenanceSocket`.
 *
 * Who may connect: Node cannot read SO_PEERCRED, so access control is the file system's.
 * The socket is mode 0660, owned by kioskd's user (root when kioskd runs as root) and, when
 * the group exists and kioskd may use it, group `kiosk-tech`; its directory must be
 * searchable by that group (kioskd.service's RuntimeDirectory). Anyone who can connect is
 * a technician; the `user` name a client sends is recorded for the audit trail only and
 * is not authenticated beyond that. A connection that is refused by the kernel never
 * reaches this code (kioskctl reports the EACCES).
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  lineSplitter,
  MaintenanceError,
  type WireReply,
  type WireRequest,
} from '../maintenance-wire.js';
import type { MaintenanceDeps } from './deps.js';
import type { Method, MethodContext } from './methods/context.js';
import { describe } from './methods/context.js';
import { maintenanceMethods } from './methods/index.js';

/** Looks a group up in /etc/group; undefined when absent. */
export function groupId(name: string, groupFile = '/etc/group'): number | undefined {
  try {
    for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
      const [g, , gid] = line.split(':');
      if (g === name && gid !== undefined) return Number(gid);
    }
  } catch {}
  return undefined;
}

/** Resolves when a Unix socket at `file` accepts a connection (a live server), else false. */
function alive(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(file);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Technician jobs that move disks or motors: each holds the update lock while it runs, and is
 * refused (EUPDATING) while an update installs or is on trial.
 */
export const UPDATE_LOCKED_METHODS: ReadonlySet<string> = new Set([
  'slot.eject',
  'slot.retract',
  'test.motors',
  'test.relays',
  'test.sensors',
  'calibrate',
  'clone',
  'verify',
  'wipe',
  'cache.import',
]);

export class MaintenanceServer {
  private server: net.Server | null = null;
  private readonly conns = new Set<net.Socket>();
  private readonly running = new Set<AbortController>();
  private readonly methods: Record<string, Method>;

  constructor(private readonly deps: MaintenanceDeps) {
    this.methods = maintenanceMethods();
  }

  /**
   * Runs a method in-process, as user `hub` (kioskd's own diagnostics: status, slots, disks),
   * whether or not the socket listens.
   */
  callLocal(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const m = this.methods[method];
    if (!m) return Promise.reject(new MaintenanceError('ENOMETHOD', `unknown method ${method}`));
    return m(params, {
      deps: this.deps,
      user: 'hub',
      signal: new AbortController().signal,
      progress: () => {},
      prompt: () => {},
    });
  }

  /** The socket's path. */
  get path(): string {
    return this.deps.socketPath ?? this.deps.config.maintenanceSocket;
  }

  /**
   * Creates the socket (its directory too, mode 0750, if missing), replacing a stale
   * socket file but refusing (EADDRINUSE) when another kioskd answers on it; then sets
   * mode 0660 and group kiosk-tech. No timeout; not cancellable.
   */
  async start(): Promise<void> {
    const file = this.path;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
    if (existsSync(file)) {
      if (await alive(file)) {
        throw new MaintenanceError(
          'EADDRINUSE',
          `another kioskd answers on ${file}; stop it first (systemctl stop kioskd)`,
        );
      }
      unlinkSync(file);
    }
    const server = net.createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    chmodSync(file, 0o660);
    const group = this.deps.socketGroup ?? 'kiosk-tech';
    const gid = groupId(group);
    if (gid !== undefined) {
      try {
        chownSync(file, process.getuid?.() ?? 0, gid);
      } catch (err) {
        this.deps.log.warn(
          { socket: file, group, err: (err as Error).message },
          'maintenance socket: cannot give it to the technicians group; add kioskd to that group',
        );
      }
    }
    this.deps.log.info(
      { socket: file, group: gid === undefined ? null : group },
      'maintenance socket listening',
    );
  }

  /** Stops accepting, cancels running requests, closes connections, removes the socket. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const a of this.running) a.abort();
    for (const c of this.conns) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {}
  }

  private accept(sock: net.Socket): void {
    this.conns.add(sock);
    const mine = new Map<number, AbortController>();
    const send = (msg: WireReply) => {
      if (!sock.destroyed) sock.write(`${JSON.stringify(msg)}\n`);
    };
    const onData = lineSplitter(
      (line) => this.onLine(line, send, mine),
      () => {
        send({ id: 0, error: { code: 'ETOOLONG', message: 'request line too long' } });
        sock.end();
      },
    );
    sock.on('data', onData);
    sock.on('error', () => {});
    sock.on('close', () => {
      this.conns.delete(sock);
      for (const a of mine.values()) a.abort();
    });
  }

  private onLine(
    line: string,
    send: (m: WireReply) => void,
    mine: Map<number, AbortController>,
  ): void {
    let req: WireRequest & { cancel?: boolean };
    try {
      req = JSON.parse(line) as WireRequest & { cancel?: boolean };
    } catch {
      send({ id: 0, error: { code: 'EPARSE', message: 'request is not JSON' } });
      return;
    }
    if (typeof req?.id !== 'number') {
      send({ id: 0, error: { code: 'EPARSE', message: 'request needs a numeric id' } });
      return;
    }
    if (req.cancel) {
      mine.get(req.id)?.abort();
      return;
    }
    const method = this.methods[req.method];
    if (!method) {
      send({
        id: req.id,
        error: {
          code: 'ENOMETHOD',
          message: `unknown method ${String(req.method)}; is kioskctl newer than kioskd?`,
        },
      });
      return;
    }
    const abort = new AbortController();
    mine.set(req.id, abort);
    this.running.add(abort);
    const ctx: MethodContext = {
      deps: this.deps,
      user: typeof req.user === 'string' && req.user ? req.user.slice(0, 64) : 'unknown',
      signal: abort.signal,
      progress: (p) => send({ id: req.id, progress: p }),
      prompt: (text) => send({ id: req.id, prompt: text }),
    };
    const log = this.deps.log.child({
      component: 'maintenance',
      method: req.method,
      user: ctx.user,
    });
    const params = req.params && typeof req.params === 'object' ? req.params : {};
    let release = () => {};
    Promise.resolve()
      .then(() => {
        if (UPDATE_LOCKED_METHODS.has(req.method) && this.deps.updateLock)
          release = this.deps.updateLock.hold(`${req.method} by ${ctx.user}`.slice(0, 64));
        return method(params, ctx);
      })
      .then(
        (result) => send({ id: req.id, result: result ?? null }),
        (err: unknown) => {
          const e = describe(err);
          log.warn({ params, code: e.code, err: e.message }, 'maintenance request failed');
          send({ id: req.id, error: e });
        },
      )
      .finally(() => {
        release();
        mine.delete(req.id);
        this.running.delete(abort);
      });
  }
}
