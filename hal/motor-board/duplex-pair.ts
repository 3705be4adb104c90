/**
 * Two cross-wired Duplex streams: bytes written to one are read from the other, delivered
 * on a later tick like a wire would. Destroying either end closes both (an unplugged cable).
 */
import { Duplex } from 'node:stream';

class End extends Duplex {
  peer!: End;
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    setImmediate(() => {
      if (this.peer.destroyed) return done(new Error('EPIPE: the other end is closed'));
      this.peer.push(Buffer.from(chunk));
      done();
    });
  }
  override _final(done: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    done();
  }
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.destroy();
    done(err);
  }
}

export function duplexPair(): [Duplex, Duplex] {
  const a = new End();
  const b = new End();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
