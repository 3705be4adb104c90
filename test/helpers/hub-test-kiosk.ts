// A small scripted kiosk for tests: a real `ws` client speaking protocol/ through an RpcPeer.
// It records every command it receives and answers with `onCommand` (default: Accepted).
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import {
  type BootResponse,
  type EventDataOf,
  type EventType,
  FEATURE_NAMES,
  HUB_TO_KIOSK_ACTIONS,
  type HubToKioskAction,
  RpcPeer,
  type SlotSnapshot,
  SUBPROTOCOL,
} from '../../protocol/index.js';

export interface ReceivedCommand {
  action: HubToKioskAction;
  payload: Record<string, unknown> & { commandId: string };
  messageId: string;
}

/** Answer for a command; return a never-settling promise to leave it unanswered. */
export type CommandAnswerer = (cmd: ReceivedCommand) => unknown | Promise<unknown>;

export interface HubTestKioskOptions {
  /** ws://host:port/kiosk */
  url: string;
  kioskId: string;
  secret: string;
  onCommand?: CommandAnswerer;
  /** Sent as-is instead of Basic auth when given (null: no Authorization header). */
  authorization?: string | null;
  /** Default: disk-kiosk.v1. */
  subprotocol?: string;
  callTimeoutMs?: number;
  /** Answer pings automatically (ws does by default); false simulates a dead link. */
  autoPong?: boolean;
}

/** Why an upgrade failed: the HTTP status and the body the hub sent. */
export class UpgradeRejected extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade rejected with HTTP ${status}`);
  }
}

export class HubTestKiosk {
  readonly commands: ReceivedCommand[] = [];
  /** Every text frame received from the hub, as parsed JSON (or the raw text if not JSON). */
  readonly frames: unknown[] = [];
  readonly peer: RpcPeer<'kiosk'>;
  readonly closed: Promise<{ code: number; reason: string }>;
  onCommand: CommandAnswerer;
  private seq = 0;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly ws: WebSocket,
    readonly opts: HubTestKioskOptions,
  ) {
    this.onCommand = opts.onCommand ?? (() => ({ status: 'Accepted' }));
    this.peer = new RpcPeer({
      role: 'kiosk',
      send: (text) => ws.send(text),
      callTimeoutMs: opts.callTimeoutMs ?? 5000,
    });
    for (const action of HUB_TO_KIOSK_ACTIONS) {
      this.peer.handle(action, (payload, ctx) => {
        const cmd = {
          action,
          payload: payload as ReceivedCommand['payload'],
          messageId: ctx.messageId,
        };
        this.commands.push(cmd);
        for (const w of this.waiters.splice(0)) w();
        return this.onCommand(cmd) as never;
      });
    }
    ws.on('message', (data) => {
      const text = (data as Buffer).toString('utf8');
      let frame: unknown = text;
      try {
        frame = JSON.parse(text);
      } catch {}
      this.frames.push(frame);
      for (const w of this.waiters.splice(0)) w();
      this.peer.receive(data as Buffer);
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.peer.close('socket closed');
        for (const w of this.waiters.splice(0)) w();
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('error', () => undefined);
  }

  /** Opens the socket. Rejects UpgradeRejected (status, body) when the hub refuses the upgrade. */
  static connect(opts: HubTestKioskOptions): Promise<HubTestKiosk> {
    const headers: Record<string, string> = {};
    if (opts.authorization === undefined) {
      headers.authorization = `Basic ${Buffer.from(`${opts.kioskId}:${opts.secret}`).toString('base64')}`;
    } else if (opts.authorization !== null) {
      headers.authorization = opts.authorization;
    }
    const ws = new WebSocket(opts.url, opts.subprotocol ?? SUBPROTOCOL, {
      headers,
      autoPong: opts.autoPong ?? true,
      perMessageDeflate: false,
    });
    return new Promise((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => reject(new UpgradeRejected(res.statusCode ?? 0, body)));
        res.on('error', () => reject(new UpgradeRejected(res.statusCode ?? 0, body)));
      });
      ws.once('error', (err) => reject(err));
      ws.once('open', () => resolve(new HubTestKiosk(ws, opts)));
    });
  }

  /**
   * Sends Boot. `features` defaults to every feature this protocol names (a current kioskd);
   * `null` leaves the field out, as a kioskd older than feature negotiation does.
   */
  boot(
    overrides: Partial<{
      kioskId: string;
      slotCount: number;
      databaseId: string;
      features: readonly string[] | null;
      /** The remote configuration it reports running (Boot `config`); absent: not sent. */
      config: { version: number; restartPending: boolean };
    }> = {},
  ): Promise<BootResponse> {
    const features = overrides.features === undefined ? FEATURE_NAMES : overrides.features;
    return this.peer.call('Boot', {
      kioskId: overrides.kioskId ?? this.opts.kioskId,
      softwareVersion: '0.1.0-test',
      slotCount: overrides.slotCount ?? 4,
      bootReason: 'PowerOn',
      ...(overrides.databaseId ? { databaseId: overrides.databaseId } : {}),
      ...(features ? { features: [...features] } : {}),
      ...(overrides.config ? { config: overrides.config } : {}),
    });
  }

  heartbeat() {
    return this.peer.call('Heartbeat', {});
  }

  inventory(slots: SlotSnapshot[]) {
    return this.peer.call('Inventory', { takenAt: new Date().toISOString(), slots });
  }

  /**
   * Sends one Event with the next seq (or `seq` when given), stamped now (or `at`, the kiosk's
   * clock when the event happened); resolves on the hub's CALLRESULT.
   */
  sendEvent<T extends EventType>(
    type: T,
    data: EventDataOf<T>,
    opts: { seq?: number; eventId?: string; at?: string } = {},
  ): Promise<{ eventId: string; seq: number }> {
    const seq = opts.seq ?? this.seq + 1;
    this.seq = Math.max(this.seq, seq);
    const eventId = opts.eventId ?? randomUUID();
    return this.peer
      .call('Event', { eventId, seq, at: opts.at ?? new Date().toISOString(), type, data } as never)
      .then(() => ({ eventId, seq }));
  }

  /** Resolves with the first received command matching `pred` (past or future). */
  waitForCommand(
    pred: (c: ReceivedCommand) => boolean,
    timeoutMs = 30_000,
  ): Promise<ReceivedCommand> {
    return this.waitFor('command', () => this.commands.find(pred), timeoutMs);
  }

  /** Sends one text frame as-is (no validation), as a careless or hostile kiosk would. */
  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /**
   * Resolves with the first frame from the hub (past or future) that is an array whose
   * message id (element 1) is `id`: the answer to a CALL sent with sendRaw.
   */
  waitForAnswer(id: string, timeoutMs = 30_000): Promise<unknown[]> {
    return this.waitFor(
      `answer to ${id.slice(0, 40)}`,
      () => this.frames.find((f): f is unknown[] => Array.isArray(f) && f[1] === id),
      timeoutMs,
    );
  }

  private async waitFor<T>(what: string, find: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`test kiosk ${this.opts.kioskId}: no ${what} within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Closes the socket (code 1000) and waits for the close. */
  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close(1000);
    await this.closed;
  }

  /** Drops the TCP connection without a close frame. */
  async terminate(): Promise<void> {
    this.ws.terminate();
    await this.closed;
  }
}
