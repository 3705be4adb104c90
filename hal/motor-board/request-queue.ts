/**
 * Single-flight request queue in front of the board: one command on the wire at a time, a
 * fresh sequence number per frame, and a reply waiter whose timer starts when the bytes are
 * written. A reply matches by address, sequence number and command (positive reply 0x80|CMD
 * or NAK naming CMD); anything else is left to the caller (unsolicited reports, stale replies).
 */
import { encodeFrame, type Frame, Nak, Rsp } from './frame.js';
import type { BadCrcInfo } from './frame-parser.js';
import { MotorBoardError, type MotorBoardErrorCode } from './types.js';

export const CMD_NAMES: Record<number, string> = {
  1: 'IDENTIFY',
  2: 'GET_STATUS',
  3: 'EJECT',
  4: 'RETRACT',
  5: 'SELF_TEST',
  6: 'RESET',
};

const NAKS: Record<number, [MotorBoardErrorCode, string, string]> = {
  [Nak.CRC]: ['ECRC', 'crc', 'the board received a corrupted frame'],
  [Nak.UNKNOWN_CMD]: [
    'ENAK',
    'unknown-command',
    'the board does not know this command (firmware too old?)',
  ],
  [Nak.BAD_LENGTH]: ['ENAK', 'bad-length', 'the board rejected the payload length'],
  [Nak.BAD_SLOT]: ['EBADSLOT', 'bad-slot', 'the board has no such slot'],
  [Nak.BUSY]: ['EBUSY', 'busy', "the slot's motor is already turning; wait for its motion report"],
  [Nak.FAULT]: ['EFAULT', 'fault', 'the slot is latched in motor fault; run a self-test or RESET'],
  [Nak.NO_DISK]: ['ENODISK', 'no-disk', 'there is no seated disk to push out'],
  [Nak.NOT_READY]: ['ENAK', 'not-ready', 'the board is still booting; try again'],
};

export interface Request {
  cmd: number;
  payload: number[];
  /** For error messages only. */
  slot?: number;
  timeoutMs: number;
  /** Sequence number to skip (the slot's last motion seq, so a status read can tell them apart). */
  avoidSeq?: number;
  /** Called with the sequence number given to this attempt, just before it is written. */
  onSeq?: (seq: number) => void;
}

type Sink = (bytes: Buffer, done: (err?: Error | null) => void) => void;

interface Job {
  req: Request;
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  seq?: number;
  timer?: NodeJS.Timeout;
}

export const describeCmd = (cmd: number, slot: number | undefined, seq?: number): string =>
  `${CMD_NAMES[cmd] ?? `0x${cmd.toString(16)}`}${slot === undefined ? '' : ` slot ${slot}`}` +
  (seq === undefined ? '' : ` seq ${seq}`);

export class RequestQueue {
  private sink: Sink | null = null;
  private readonly jobs: Job[] = [];
  private current: Job | null = null;
  private seq = 0;

  constructor(private readonly deps: { address: number; where: () => string }) {}

  attach(sink: Sink): void {
    this.sink = sink;
    this.pump();
  }

  /** Detaches the sink and rejects the in-flight and every queued request with `err`. */
  detach(err: MotorBoardError): void {
    this.sink = null;
    const all = [...(this.current ? [this.current] : []), ...this.jobs.splice(0)];
    this.current = null;
    for (const j of all) {
      const what = describeCmd(j.req.cmd, j.req.slot, j.seq);
      this.finish(
        j,
        undefined,
        new MotorBoardError(err.code, `${what}: ${err.message}`, { cause: err }),
      );
    }
  }

  send(req: Request): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      this.jobs.push({ req, resolve, reject });
      this.pump();
    });
  }

  /** Offers a decoded frame; true if it was the reply to the request in flight. */
  onFrame(f: Frame): boolean {
    const j = this.current;
    if (!j || j.seq === undefined || f.addr !== this.deps.address || f.seq !== j.seq) return false;
    if (f.cmd === (Rsp.REPLY_FLAG | j.req.cmd)) {
      this.finish(j, f);
      return true;
    }
    if (f.cmd === Rsp.NAK && f.payload[0] === j.req.cmd) {
      const [code, nak, why] = NAKS[f.payload[1] ?? 0] ?? ['ENAK', 'unknown', 'unknown NAK code'];
      const what = describeCmd(j.req.cmd, j.req.slot, j.seq);
      this.finish(
        j,
        undefined,
        new MotorBoardError(code, `${what}: refused (NAK ${nak}): ${why}`, { nak }),
      );
      return true;
    }
    return false;
  }

  /** A frame with a sound header failed its CRC: if it was our reply, fail fast with ECRC. */
  onBadCrc(info: BadCrcInfo): void {
    const j = this.current;
    if (!j || info.addr !== this.deps.address || info.seq !== j.seq || info.cmd < 0x80) return;
    const what = describeCmd(j.req.cmd, j.req.slot, j.seq);
    this.finish(
      j,
      undefined,
      new MotorBoardError('ECRC', `${what}: the reply failed its CRC check (line noise?)`),
    );
  }

  private nextSeq(avoid?: number): number {
    do this.seq = (this.seq % 255) + 1;
    while (this.seq === avoid);
    return this.seq;
  }

  private pump(): void {
    if (this.current || !this.sink) return;
    const j = this.jobs.shift();
    if (!j) return;
    this.current = j;
    const seq = this.nextSeq(j.req.avoidSeq);
    const bytes = encodeFrame({
      addr: this.deps.address,
      seq,
      cmd: j.req.cmd,
      payload: Buffer.from(j.req.payload),
    });
    j.seq = seq;
    j.req.onSeq?.(seq);
    this.sink(bytes, (err) => {
      if (this.current !== j) return;
      const what = describeCmd(j.req.cmd, j.req.slot, seq);
      if (err) {
        this.finish(
          j,
          undefined,
          new MotorBoardError(
            'EDISCONNECTED',
            `${what}: write to ${this.deps.where()} failed: ${err.message}`,
            { cause: err },
          ),
        );
        return;
      }
      j.timer = setTimeout(() => {
        const msg = `${what}: no reply from the slot board at ${this.deps.where()} within ${j.req.timeoutMs} ms; check the cable, power and board address ${this.deps.address}`;
        this.finish(j, undefined, new MotorBoardError('ETIMEOUT', msg));
      }, j.req.timeoutMs);
    });
  }

  private finish(j: Job, f?: Frame, err?: Error): void {
    if (j.timer) clearTimeout(j.timer);
    if (this.current === j) this.current = null;
    if (err) j.reject(err);
    else j.resolve(f!);
    queueMicrotask(() => this.pump());
  }
}
