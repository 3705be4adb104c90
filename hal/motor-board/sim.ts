/**
 * The slot board, simulated at the byte level: it speaks the BOARD side of PROTOCOL.md over
 * whatever Duplex it is attached to (an in-process stream pair or a pty), so the real driver
 * talks to it exactly as to the hardware. Motors take time, a "person" can take or insert a
 * disk, and faults can be injected. `record` is the physical truth: every motion actually
 * performed, per slot, with timestamps. Self-contained: no module-global state.
 */
import type { Duplex } from 'node:stream';
import {
  BROADCAST,
  Cmd,
  DEFAULT_ADDRESS,
  decodeFrame,
  encodeFrame,
  type Frame,
  Motion,
  Nak,
  ResetCause,
  Result,
  Rsp,
} from './frame.js';
import { FrameParser } from './frame-parser.js';
import { encodeIdentity, flagsToSensors, motionCode, sensorsToFlags } from './messages.js';
import type { MotionFault, MotionKind, SimTiming, SlotSensors } from './types.js';

export interface SimOptions extends SimTiming {
  slots: number;
  /** Slots holding a seated disk at power-on. */
  loaded?: number[];
  address?: number;
  boardId?: number;
  firmware?: [number, number, number];
  hardwareRevision?: number;
}

/** One motion the simulated motor actually performed. */
export interface SimRecordEntry {
  slot: number;
  kind: MotionKind;
  /** Sequence number of the command that started it. */
  seq: number;
  startedAt: number;
  endedAt?: number;
  result?: 'ok' | MotionFault;
}

interface SlotState extends Omit<SlotSensors, 'slot'> {
  last: { kind: number; result: number; seq: number } | null;
  timer?: NodeJS.Timeout;
  entry?: SimRecordEntry;
  inject?: MotionFault;
}

type Outgoing = 'reply' | 'ack';

export class MotorBoardSim {
  readonly record: SimRecordEntry[] = [];
  /** Every well-formed command frame the board received (any address), in order. */
  readonly received: Array<{ cmd: number; seq: number; at: number }> = [];
  private readonly slots: SlotState[] = [];
  private stream: Duplex | null = null;
  private parser: FrameParser | null = null;
  private booting: NodeJS.Timeout | undefined;
  private eventSeq = 0;
  private drop: Outgoing | null = null;
  private corrupt: Outgoing | null = null;
  private readonly t: Required<SimTiming>;
  readonly address: number;

  constructor(private readonly opts: SimOptions) {
    this.address = opts.address ?? DEFAULT_ADDRESS;
    this.t = {
      ejectMs: opts.ejectMs ?? 300,
      retractMs: opts.retractMs ?? 300,
      selfTestMs: opts.selfTestMs ?? 400,
      bootMs: opts.bootMs ?? 50,
    };
    for (let i = 1; i <= opts.slots; i++) {
      const loaded = opts.loaded?.includes(i) ?? false;
      this.slots.push({
        present: loaded,
        seated: loaded,
        trayOpen: false,
        motorFault: false,
        busy: false,
        last: null,
      });
    }
  }

  /** Connects the board's serial line. Replaces any previous one. */
  attach(stream: Duplex): void {
    this.detach();
    const parser = new FrameParser(10);
    this.stream = stream;
    this.parser = parser;
    stream.on('data', (d: Buffer) => parser.write(d));
    stream.on('error', () => this.detachIf(stream));
    stream.on('close', () => this.detachIf(stream));
    parser.on('data', (b: Buffer) => this.onFrame(decodeFrame(b)));
    parser.on('badcrc', (h: { addr: number; seq: number; cmd: number }) => {
      if (h.addr === this.address && h.cmd < 0x80 && !this.booting) this.nak(h.seq, h.cmd, Nak.CRC);
    });
  }

  /** Disconnects the serial line (the board keeps running: motors finish, reports are lost). */
  detach(): void {
    this.parser?.destroy();
    this.parser = null;
    this.stream = null;
  }

  /** Stops every timer. The instance is done. */
  close(): void {
    this.detach();
    clearTimeout(this.booting);
    for (const s of this.slots) clearTimeout(s.timer);
  }

  // ---- the physical world --------------------------------------------------------------

  sensors(slot: number): SlotSensors {
    const s = this.slot(slot);
    return flagsToSensors(slot, sensorsToFlags(s));
  }

  /**
   * The disk leaves `slot` whatever its position: a technician behind the service door, or a
   * test setting the scene. A renter at the front can only grab what sticks out: `grabDisk`.
   */
  takeDisk(slot: number): void {
    this.change(slot, { present: false, seated: false });
  }

  /**
   * A renter grabs the disk sticking out of `slot` (pushed out, or stuck half-way after a jam).
   * Returns false, and nothing changes, when no disk sticks out (none, or already pulled back).
   */
  grabDisk(slot: number): boolean {
    const s = this.slot(slot);
    if (!s.present || s.seated) return false;
    this.change(slot, { present: false, seated: false });
    return true;
  }

  /** A person pushes a disk into `slot` (a return); it ends up seated. */
  insertDisk(slot: number): void {
    this.change(slot, { present: true, seated: true });
  }

  setTrayOpen(slot: number, open: boolean): void {
    this.change(slot, { trayOpen: open });
  }

  /** Number of ejects the motor of `slot` actually performed (jammed ones included). */
  ejectCount(slot: number): number {
    return this.record.filter((r) => r.slot === slot && r.kind === 'eject').length;
  }

  // ---- fault injection ---------------------------------------------------------------------

  /** The next motion on `slot` ends in this fault (default: jam). */
  injectJam(slot: number, fault: MotionFault = 'jam'): void {
    this.slot(slot).inject = fault;
  }

  /** Drops the next reply of any kind ('reply') or the next ACK of a motor command ('ack'). */
  dropNext(what: Outgoing = 'reply'): void {
    this.drop = what;
  }

  /** Flips a CRC byte of the next reply / motor ACK (the header stays sound). */
  corruptNext(what: Outgoing = 'reply'): void {
    this.corrupt = what;
  }

  /** The board reboots on its own (watchdog): motions abort, then a BOOT report. */
  resetBoard(cause: number = ResetCause.WATCHDOG): void {
    for (const [i, s] of this.slots.entries()) {
      if (s.busy) this.endMotion(i + 1, Result.ABORTED, false);
      s.motorFault = false;
    }
    clearTimeout(this.booting);
    this.booting = setTimeout(() => {
      this.booting = undefined;
      const id = this.identityBytes();
      this.send({
        addr: this.address,
        seq: this.nextEvent(),
        cmd: Rsp.BOOT,
        payload: Buffer.concat([Buffer.from([cause]), id]),
      });
    }, this.t.bootMs);
  }

  // ---- protocol ----------------------------------------------------------------------------

  private onFrame(f: Frame): void {
    if (f.cmd >= 0x80 || this.booting) return;
    this.received.push({ cmd: f.cmd, seq: f.seq, at: Date.now() });
    if (f.addr === BROADCAST) {
      if (f.cmd === Cmd.RESET) this.resetBoard(ResetCause.COMMAND);
      return;
    }
    if (f.addr !== this.address) return;
    const p = f.payload;
    const slot = p[0] ?? 0;
    const bad = slot < 1 || slot > this.slots.length;
    switch (f.cmd) {
      case Cmd.IDENTIFY:
        this.reply(f, this.identityBytes());
        return;
      case Cmd.GET_STATUS: {
        if (p.length !== 1) {
          this.nak(f.seq, f.cmd, Nak.BAD_LENGTH);
          return;
        }
        if (slot !== 0xff && bad) {
          this.nak(f.seq, f.cmd, Nak.BAD_SLOT);
          return;
        }
        const which = slot === 0xff ? this.slots.map((_, i) => i + 1) : [slot];
        const out = [which.length];
        for (const n of which) {
          const s = this.slot(n);
          out.push(
            n,
            sensorsToFlags(s),
            s.last ? (s.last.kind << 4) | s.last.result : 0,
            s.last?.seq ?? 0,
          );
        }
        this.reply(f, Buffer.from(out));
        return;
      }
      case Cmd.EJECT:
      case Cmd.RETRACT:
      case Cmd.SELF_TEST: {
        if (p.length !== 1) {
          this.nak(f.seq, f.cmd, Nak.BAD_LENGTH);
          return;
        }
        if (bad) {
          this.nak(f.seq, f.cmd, Nak.BAD_SLOT);
          return;
        }
        const s = this.slot(slot);
        if (s.busy) {
          this.nak(f.seq, f.cmd, Nak.BUSY);
          return;
        }
        if (s.motorFault && f.cmd !== Cmd.SELF_TEST) {
          this.nak(f.seq, f.cmd, Nak.FAULT);
          return;
        }
        if (f.cmd === Cmd.EJECT && !(s.present && s.seated)) {
          this.nak(f.seq, f.cmd, Nak.NO_DISK);
          return;
        }
        this.startMotion(slot, f);
        this.reply(f, Buffer.from([slot]), 'ack');
        return;
      }
      case Cmd.RESET:
        this.reply(f, Buffer.alloc(0));
        this.resetBoard(ResetCause.COMMAND);
        return;
      default:
        this.nak(f.seq, f.cmd, Nak.UNKNOWN_CMD);
        return;
    }
  }

  private startMotion(slot: number, f: Frame): void {
    const kind: MotionKind =
      f.cmd === Cmd.EJECT ? 'eject' : f.cmd === Cmd.RETRACT ? 'retract' : 'self-test';
    const s = this.slot(slot);
    s.busy = true;
    s.last = { kind: motionCode(kind), result: Result.RUNNING, seq: f.seq };
    s.entry = { slot, kind, seq: f.seq, startedAt: Date.now() };
    this.record.push(s.entry);
    const ms =
      kind === 'eject' ? this.t.ejectMs : kind === 'retract' ? this.t.retractMs : this.t.selfTestMs;
    s.timer = setTimeout(() => {
      const fault = s.inject;
      s.inject = undefined;
      if (fault) {
        this.endMotion(slot, fault === 'jam' ? Result.JAM : Result.MOTOR_FAULT, true);
        return;
      }
      if (kind === 'eject') this.change(slot, { seated: false });
      if (kind === 'retract' && s.present) this.change(slot, { seated: true });
      if (kind === 'self-test' && s.motorFault) this.change(slot, { motorFault: false });
      this.endMotion(slot, Result.OK, true);
    }, ms);
  }

  private endMotion(slot: number, result: number, report: boolean): void {
    const s = this.slot(slot);
    clearTimeout(s.timer);
    s.busy = false;
    const e = s.entry!;
    e.endedAt = Date.now();
    e.result =
      result === Result.OK
        ? 'ok'
        : result === Result.JAM
          ? 'jam'
          : result === Result.ABORTED
            ? 'aborted'
            : 'motor-fault';
    s.last = { kind: s.last?.kind ?? Motion.NONE, result, seq: e.seq };
    if (result === Result.JAM || result === Result.MOTOR_FAULT) {
      if (e.kind === 'eject') this.change(slot, { seated: false }); // stuck half-way out
      this.change(slot, { motorFault: true });
    }
    if (!report) return;
    const d = Buffer.alloc(2);
    d.writeUInt16LE(Math.min(0xffff, e.endedAt - e.startedAt));
    const payload = Buffer.from([
      slot,
      motionCode(e.kind),
      e.seq,
      result,
      sensorsToFlags(s),
      d[0]!,
      d[1]!,
    ]);
    const cmd = result === Result.OK ? Rsp.MOTION_DONE : Rsp.MOTION_FAULT;
    this.send({ addr: this.address, seq: this.nextEvent(), cmd, payload });
  }

  /** Applies a sensor change and reports it (SENSOR_CHANGE) if anything reportable changed. */
  private change(slot: number, patch: Partial<Omit<SlotSensors, 'slot' | 'busy'>>): void {
    const s = this.slot(slot);
    const before = sensorsToFlags({ ...s, busy: false });
    Object.assign(s, patch);
    const after = sensorsToFlags({ ...s, busy: false });
    if (before === after || this.booting) return;
    this.send({
      addr: this.address,
      seq: this.nextEvent(),
      cmd: Rsp.SENSOR_CHANGE,
      payload: Buffer.from([slot, sensorsToFlags(s)]),
    });
  }

  private reply(req: Frame, payload: Buffer, kind: Outgoing = 'reply'): void {
    this.send({ addr: this.address, seq: req.seq, cmd: Rsp.REPLY_FLAG | req.cmd, payload }, kind);
  }

  private nak(seq: number, cmd: number, code: number): void {
    this.send(
      { addr: this.address, seq, cmd: Rsp.NAK, payload: Buffer.from([cmd, code]) },
      'reply',
    );
  }

  private send(f: Frame, kind?: Outgoing): void {
    const matches = (want: Outgoing | null) =>
      want !== null && kind !== undefined && (want === 'reply' || kind === 'ack');
    if (matches(this.drop)) {
      this.drop = null;
      return;
    }
    const bytes = encodeFrame(f);
    if (matches(this.corrupt)) {
      this.corrupt = null;
      bytes[bytes.length - 1]! ^= 0xff;
    }
    if (this.stream && !this.stream.destroyed) this.stream.write(bytes);
  }

  private identityBytes(): Buffer {
    return encodeIdentity({
      boardId: this.opts.boardId ?? 0x5eed0001,
      hardwareRevision: this.opts.hardwareRevision ?? 2,
      firmware: this.opts.firmware ?? [1, 4, 0],
      slotCount: this.slots.length,
    });
  }

  private nextEvent(): number {
    this.eventSeq = (this.eventSeq + 1) & 0xff;
    return this.eventSeq;
  }

  private detachIf(stream: Duplex): void {
    if (this.stream === stream) this.detach();
  }

  private slot(n: number): SlotState {
    const s = this.slots[n - 1];
    if (!s) throw new RangeError(`simulated board has no slot ${n} (1..${this.slots.length})`);
    return s;
  }
}
