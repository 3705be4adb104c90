/**
 * The protocol driver: MotorBoard over any byte link (a serial port, a pty, an in-process
 * stream pair). Owns reconnection, retries and the motion bookkeeping; the single-flight
 * queue and reply waiter live in request-queue.ts, framing in frame-parser.ts.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Cmd, DEFAULT_ADDRESS, decodeFrame, type Frame, Rsp } from './frame.js';
import { FrameParser } from './frame-parser.js';
import {
  decodeIdentity,
  decodeMotion,
  decodeStatus,
  flagsToSensors,
  resetCauseName,
} from './messages.js';
import { describeCmd, RequestQueue } from './request-queue.js';
import {
  type BoardIdentity,
  type DriverTiming,
  type MotionEvent,
  type MotionKind,
  type MotionOptions,
  type MotionResult,
  type MotorBoard,
  MotorBoardError,
  type MotorBoardEvents,
  type SelfTestResult,
  type SlotSensors,
  type SlotStatus,
} from './types.js';

export interface Link {
  stream: Duplex;
  close(): Promise<void>;
}

/** Opens the byte link to the board; rejects while it is absent (unplugged). */
export interface LinkOpener {
  /** For messages, e.g. the device path. */
  readonly where: string;
  open(): Promise<Link>;
}

export interface DriverDeps {
  opener: LinkOpener;
  address?: number;
  timing?: DriverTiming;
}

interface MotionWait {
  kind: MotionKind;
  seqs: Set<number>;
  settled: boolean;
  resolve: (ev: MotionEvent) => void;
  reject: (err: Error) => void;
  promise: Promise<MotionEvent>;
}

const CMD_OF: Record<MotionKind, number> = {
  eject: Cmd.EJECT,
  retract: Cmd.RETRACT,
  'self-test': Cmd.SELF_TEST,
};
const retryable = (e: unknown) =>
  e instanceof MotorBoardError && (e.code === 'ETIMEOUT' || e.code === 'ECRC');

export class MotorBoardDriver extends EventEmitter<MotorBoardEvents> implements MotorBoard {
  identity: BoardIdentity | null = null;
  connected = false;
  private link: Link | null = null;
  private running = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly queue: RequestQueue;
  private readonly motions = new Map<number, MotionWait>();
  private readonly bootWaiters = new Set<() => void>();
  private readonly sensors = new Map<number, SlotSensors>();
  private readonly lastMotionSeq = new Map<number, number>();
  private readonly address: number;
  private readonly t: Required<Omit<DriverTiming, 'reconnect'>> & {
    initialMs: number;
    maxMs: number;
  };

  constructor(private readonly deps: DriverDeps) {
    super();
    const tm = deps.timing ?? {};
    this.address = deps.address ?? DEFAULT_ADDRESS;
    this.t = {
      replyTimeoutMs: tm.replyTimeoutMs ?? 250,
      retries: tm.retries ?? 2,
      interByteTimeoutMs: tm.interByteTimeoutMs ?? 50,
      bootTimeoutMs: tm.bootTimeoutMs ?? 3000,
      initialMs: tm.reconnect?.initialMs ?? 100,
      maxMs: tm.reconnect?.maxMs ?? 2000,
    };
    this.queue = new RequestQueue({ address: this.address, where: () => deps.opener.where });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.connect();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    const err = new MotorBoardError(
      'ESTOPPED',
      `slot board at ${this.deps.opener.where}: driver stopped`,
    );
    await this.drop(err, false);
  }

  async identify(): Promise<BoardIdentity> {
    const f = await this.query(Cmd.IDENTIFY, []);
    const id = decodeIdentity(Buffer.from(f.payload), f.addr);
    if (!id) throw this.protocolError('IDENTIFY', f);
    return id;
  }

  async status(slot?: number): Promise<SlotStatus[]> {
    if (slot !== undefined) this.checkSlot(slot);
    const f = await this.query(Cmd.GET_STATUS, [slot ?? 0xff], slot);
    const all = decodeStatus(Buffer.from(f.payload));
    if (!all) throw this.protocolError('GET_STATUS', f);
    for (const s of all) if (s.lastMotion) this.lastMotionSeq.set(s.slot, s.lastMotion.seq);
    return all;
  }

  async eject(slot: number, opts: MotionOptions = {}): Promise<MotionResult> {
    return this.asResult(await this.motion('eject', slot, opts.timeoutMs ?? 5000, opts.signal));
  }

  async retract(slot: number, opts: MotionOptions = {}): Promise<MotionResult> {
    return this.asResult(await this.motion('retract', slot, opts.timeoutMs ?? 5000, opts.signal));
  }

  async selfTest(slot: number, opts: MotionOptions = {}): Promise<SelfTestResult> {
    const ev = await this.motion('self-test', slot, opts.timeoutMs ?? 8000, opts.signal);
    const base = { slot, ok: ev.result === 'ok', durationMs: ev.durationMs, sensors: ev.sensors };
    return ev.result === 'ok' ? base : { ...base, fault: ev.result };
  }

  async reset(): Promise<void> {
    this.requireLink();
    let timer: NodeJS.Timeout | undefined;
    let done!: () => void;
    const booted = new Promise<void>((resolve, reject) => {
      done = resolve;
      timer = setTimeout(() => {
        reject(
          new MotorBoardError(
            'ETIMEOUT',
            `RESET: no BOOT report from ${this.deps.opener.where} within ${this.t.bootTimeoutMs} ms; power-cycle the board`,
          ),
        );
      }, this.t.bootTimeoutMs);
    });
    this.bootWaiters.add(done);
    try {
      await this.queue
        .send({ cmd: Cmd.RESET, payload: [], timeoutMs: this.t.replyTimeoutMs })
        .catch((e) => {
          if (!retryable(e)) throw e; // ACK lost: the board may be rebooting anyway; BOOT decides
        });
      await booted;
    } finally {
      clearTimeout(timer);
      this.bootWaiters.delete(done);
    }
  }

  // ---- motions -------------------------------------------------------------------------

  private async motion(
    kind: MotionKind,
    slot: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<MotionEvent> {
    this.requireLink();
    this.checkSlot(slot);
    const name = describeCmd(CMD_OF[kind], slot);
    if (this.motions.has(slot))
      throw new MotorBoardError(
        'EBUSY',
        `${name}: a motion on this slot is still in progress; wait for it`,
      );
    const w = this.newWait(kind);
    this.motions.set(slot, w);
    try {
      const early = await this.sendMotion(w, slot);
      if (early) return early;
      return await this.awaitMotion(w, slot, timeoutMs, signal);
    } finally {
      w.settled = true;
      if (this.motions.get(slot) === w) this.motions.delete(slot);
    }
  }

  /** Sends the motor command; on a lost ACK reads status before ever resending. */
  private async sendMotion(w: MotionWait, slot: number): Promise<MotionEvent | undefined> {
    for (let attempt = 0; ; attempt++) {
      let seq: number | undefined;
      try {
        await this.queue.send({
          cmd: CMD_OF[w.kind],
          payload: [slot],
          slot,
          timeoutMs: this.t.replyTimeoutMs,
          avoidSeq: this.lastMotionSeq.get(slot),
          onSeq: (s) => {
            seq = s;
            w.seqs.add(s);
          },
        });
        return undefined;
      } catch (e) {
        if (!(e instanceof MotorBoardError)) throw e;
        if (e.nak === 'crc' && attempt < this.t.retries) continue; // refused: nothing moved
        if (!retryable(e) || seq === undefined) throw e;
        // The ACK was lost or garbled: did the board start this motion? Ask, never guess.
        let st: SlotStatus | undefined;
        try {
          st = (await this.status(slot))[0];
        } catch (e2) {
          throw new MotorBoardError(
            'ETIMEOUT',
            `${describeCmd(CMD_OF[w.kind], slot, seq)}: the ACK was lost and the slot's status could not be read; the motion may or may not have started: read status() before retrying`,
            { cause: e2 },
          );
        }
        const lm = st?.lastMotion;
        if (st && lm && lm.seq === seq && lm.kind === w.kind) {
          if (lm.result === 'running') return undefined;
          return {
            slot,
            kind: w.kind,
            seq,
            result: lm.result,
            durationMs: 0,
            sensors: this.strip(st),
          };
        }
        if (attempt >= this.t.retries) throw e;
      }
    }
  }

  private async awaitMotion(
    w: MotionWait,
    slot: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<MotionEvent> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const name = describeCmd(CMD_OF[w.kind], slot, [...w.seqs].at(-1));
    const limit = new Promise<'timeout'>((resolve, reject) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      onAbort = () =>
        reject(
          new MotorBoardError(
            'ECANCELED',
            `${name}: wait cancelled; the motor was NOT stopped, read status()`,
          ),
        );
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const r = await Promise.race([w.promise, limit]);
      if (r !== 'timeout') return r;
      // The completion report may have been lost: the status says how the motion ended.
      const st = (await this.status(slot).catch(() => []))[0];
      const lm = st?.lastMotion;
      if (st && lm && w.seqs.has(lm.seq) && lm.kind === w.kind && lm.result !== 'running') {
        return {
          slot,
          kind: w.kind,
          seq: lm.seq,
          result: lm.result,
          durationMs: 0,
          sensors: this.strip(st),
        };
      }
      throw new MotorBoardError(
        'ETIMEOUT',
        `${name}: the board did not report the end of the motion within ${timeoutMs} ms; the motor may still be turning: read status() before acting`,
      );
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  private asResult(ev: MotionEvent): MotionResult {
    const name = describeCmd(CMD_OF[ev.kind], ev.slot, ev.seq);
    if (ev.result === 'jam')
      throw new MotorBoardError(
        'EJAM',
        `${name}: the motor jammed before the end position; the disk may be stuck half-way: inspect the slot, then self-test it`,
      );
    if (ev.result === 'motor-fault')
      throw new MotorBoardError(
        'EMOTOR',
        `${name}: motor driver fault (over-current or open winding); the slot needs service`,
      );
    if (ev.result === 'aborted')
      throw new MotorBoardError(
        'ERESET',
        `${name}: the board rebooted during the motion; read status() to learn where the disk is`,
      );
    return {
      slot: ev.slot,
      kind: ev.kind,
      seq: ev.seq,
      durationMs: ev.durationMs,
      sensors: ev.sensors,
    };
  }

  private newWait(kind: MotionKind): MotionWait {
    const w = { kind, seqs: new Set<number>(), settled: false } as MotionWait;
    w.promise = new Promise<MotionEvent>((resolve, reject) => {
      w.resolve = resolve;
      w.reject = reject;
    });
    w.promise.catch(() => {}); // may be rejected before anyone awaits it
    return w;
  }

  // ---- link ------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    let link: Link;
    try {
      link = await this.deps.opener.open();
    } catch (err) {
      throw new MotorBoardError(
        'EDISCONNECTED',
        `cannot open the slot board at ${this.deps.opener.where}: ${(err as Error).message}; check the USB-serial adapter and the udev link`,
        { cause: err },
      );
    }
    if (!this.running) {
      await link.close();
      return;
    }
    this.link = link;
    const parser = new FrameParser(this.t.interByteTimeoutMs);
    const stream = link.stream;
    stream.on('data', (d: Buffer) => parser.write(d));
    parser.on('data', (b: Buffer) => this.onFrame(decodeFrame(b)));
    parser.on('badcrc', (info) => this.queue.onBadCrc(info));
    const lost = (err?: Error) => {
      if (this.link !== link) return;
      parser.destroy();
      const e = new MotorBoardError(
        'EDISCONNECTED',
        `slot board at ${this.deps.opener.where} disconnected${err ? `: ${err.message}` : ''}; the driver reconnects on its own`,
        { cause: err },
      );
      void this.drop(e, true);
    };
    stream.on('error', lost);
    stream.on('close', () => lost());
    stream.on('end', () => lost());
    this.queue.attach((bytes, done) => stream.write(bytes, done));
    try {
      await this.refresh();
    } catch (err) {
      await this.drop(err as MotorBoardError, false);
      throw err;
    }
    this.connected = true;
    this.emit('connected', this.identity!);
  }

  /** Re-reads identity and every slot; emits 'sensor' for what changed meanwhile. */
  private async refresh(): Promise<void> {
    this.identity = await this.identify();
    for (const s of await this.status()) {
      const now = this.strip(s);
      const before = this.sensors.get(s.slot);
      this.sensors.set(s.slot, now);
      if (before && JSON.stringify(before) !== JSON.stringify(now))
        this.emit('sensor', s.slot, now);
    }
  }

  /** Tears the link down, fails everything pending; optionally schedules reconnection. */
  private async drop(err: MotorBoardError, reconnect: boolean): Promise<void> {
    const link = this.link;
    const wasConnected = this.connected;
    this.link = null;
    this.connected = false;
    this.queue.detach(err);
    for (const w of this.motions.values()) w.reject(err);
    this.motions.clear();
    if (link) await link.close().catch(() => {});
    if (wasConnected && reconnect) this.emit('disconnected', err);
    if (reconnect && this.running) this.scheduleReconnect(this.t.initialMs);
  }

  private scheduleReconnect(delay: number): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (!this.running || this.link) return;
      this.connect().catch(() => {
        if (this.running && !this.link) this.scheduleReconnect(Math.min(delay * 2, this.t.maxMs));
      });
    }, delay);
  }

  // ---- incoming --------------------------------------------------------------------------

  private onFrame(f: Frame): void {
    if (f.addr !== this.address || f.cmd < 0x80 || this.queue.onFrame(f)) return;
    const p = Buffer.from(f.payload);
    if (f.cmd === Rsp.SENSOR_CHANGE && p.length >= 2) {
      const s = flagsToSensors(p[0]!, p[1]!);
      this.sensors.set(s.slot, s);
      this.emit('sensor', s.slot, s);
    } else if (f.cmd === Rsp.MOTION_DONE || f.cmd === Rsp.MOTION_FAULT) {
      const ev = decodeMotion(p);
      if (!ev) return;
      this.lastMotionSeq.set(ev.slot, ev.seq);
      this.sensors.set(ev.slot, ev.sensors);
      const w = this.motions.get(ev.slot);
      if (w?.seqs.has(ev.seq) && w.kind === ev.kind) w.resolve(ev);
      this.emit('motion', ev);
    } else if (f.cmd === Rsp.BOOT) {
      const cause = resetCauseName(p[0] ?? 0xff);
      const id = decodeIdentity(p.subarray(1), f.addr);
      if (id) this.identity = id;
      const err = new MotorBoardError(
        'ERESET',
        `slot board at ${this.deps.opener.where} rebooted (${cause}); motions in progress were aborted: read status()`,
      );
      for (const w of this.motions.values()) w.reject(err);
      this.motions.clear();
      for (const done of this.bootWaiters) done();
      this.emit('reset', cause);
      this.refresh().catch(() => {}); // best effort: emits 'sensor' for differences
    }
  }

  // ---- helpers ---------------------------------------------------------------------------

  private async query(cmd: number, payload: number[], slot?: number): Promise<Frame> {
    this.requireLink();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.queue.send({ cmd, payload, slot, timeoutMs: this.t.replyTimeoutMs });
      } catch (e) {
        if (!(retryable(e) && attempt < this.t.retries)) throw e;
      }
    }
  }

  private requireLink(): void {
    if (!this.running)
      throw new MotorBoardError('ESTOPPED', 'slot board driver is not started; call start()');
    if (!this.link)
      throw new MotorBoardError(
        'EDISCONNECTED',
        `slot board at ${this.deps.opener.where} is disconnected; wait for 'connected'`,
      );
  }

  private checkSlot(slot: number): void {
    const n = this.identity?.slotCount;
    if (!Number.isInteger(slot) || slot < 1 || (n !== undefined && slot > n)) {
      throw new MotorBoardError(
        'EBADSLOT',
        `slot ${slot} does not exist (the board has slots 1..${n ?? '?'})`,
      );
    }
  }

  private strip(s: SlotStatus): SlotSensors {
    const { lastMotion: _ignored, ...sensors } = s;
    return sensors;
  }

  private protocolError(what: string, f: Frame): MotorBoardError {
    return new MotorBoardError(
      'EPROTOCOL',
      `${what} seq ${f.seq}: malformed reply payload (${f.payload.length} bytes); board firmware incompatible with this driver?`,
    );
  }
}
