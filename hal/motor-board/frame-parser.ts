/**
 * Byte stream -> frames. Hunts for SOF, checks the length byte against its complement,
 * waits for the whole frame and checks the CRC. On any mismatch it drops only the SOF
 * byte and hunts again from the next byte, so a valid frame hidden behind garbage (or
 * behind a false start) is still found. A partial frame that sees no byte for `idleMs`
 * (the inter-byte timeout) is given up the same way, as is any partial frame at end().
 * Emits each frame as one Buffer (object mode), byte-equal to what was sent.
 * Emits 'badcrc' ({addr, seq, cmd}) when a frame with a sound header fails its CRC.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { crc16Modbus } from './crc16.js';
import { CRC_LEN, HEADER_LEN, MAX_PAYLOAD, SOF } from './frame.js';

export interface BadCrcInfo {
  addr: number;
  seq: number;
  cmd: number;
}

export class FrameParser extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;

  /** @param idleMs inter-byte timeout; 0 disables it (then only end() flushes). */
  constructor(private readonly idleMs = 0) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.scan(false);
    clearTimeout(this.timer);
    if (this.idleMs > 0 && this.buf.length > 0) {
      this.timer = setTimeout(() => this.scan(true), this.idleMs).unref();
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    clearTimeout(this.timer);
    this.scan(true);
    done();
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    done(err);
  }

  /** @param giveUp true: an incomplete frame at the head is dropped (idle line or end). */
  private scan(giveUp: boolean): void {
    for (;;) {
      const start = this.buf.indexOf(SOF);
      if (start < 0) {
        this.buf = Buffer.alloc(0);
        return;
      }
      const b = this.buf.subarray(start);
      this.buf = b;
      if (b.length < 4) {
        if (!giveUp) return;
        this.buf = b.subarray(1);
        continue;
      }
      const len = b[2]!;
      if (b[3] !== (~len & 0xff) || len > MAX_PAYLOAD) {
        this.buf = b.subarray(1);
        continue;
      }
      const total = HEADER_LEN + len + CRC_LEN;
      if (b.length < total) {
        if (!giveUp) return;
        this.buf = b.subarray(1);
        continue;
      }
      if (crc16Modbus(b, 1, total - CRC_LEN) === b.readUInt16LE(total - CRC_LEN)) {
        this.push(Buffer.from(b.subarray(0, total)));
        this.buf = b.subarray(total);
      } else {
        this.emit('badcrc', { addr: b[1]!, seq: b[4]!, cmd: b[5]! } satisfies BadCrcInfo);
        this.buf = b.subarray(1);
      }
    }
  }
}
