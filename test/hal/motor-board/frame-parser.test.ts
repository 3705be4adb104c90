import fc from 'fast-check';
import t from 'tap';
import { crc16Modbus } from '../../../hal/motor-board/crc16.js';
import { encodeFrame, MAX_PAYLOAD } from '../../../hal/motor-board/frame.js';
import { type BadCrcInfo, FrameParser } from '../../../hal/motor-board/frame-parser.js';

/** Feeds chunks, ends the stream, returns the frames (as hex) and bad-CRC reports. */
async function parse(chunks: Buffer[]): Promise<{ frames: string[]; bad: BadCrcInfo[] }> {
  const p = new FrameParser();
  const frames: string[] = [];
  const bad: BadCrcInfo[] = [];
  p.on('data', (b: Buffer) => frames.push(b.toString('hex')));
  p.on('badcrc', (i: BadCrcInfo) => bad.push(i));
  const ended = new Promise((r) => p.on('end', r));
  for (const c of chunks) p.write(c);
  p.end();
  await ended;
  return { frames, bad };
}

const sample = [
  encodeFrame({ addr: 1, seq: 1, cmd: 0x01, payload: Buffer.alloc(0) }),
  encodeFrame({ addr: 1, seq: 2, cmd: 0x82, payload: Buffer.from([1, 1, 3, 0x10, 7]) }),
  encodeFrame({ addr: 7, seq: 255, cmd: 0x03, payload: Buffer.from([0xa5, 0xa5, 0x5a]) }),
];

t.test('CRC-16/MODBUS check value', async (t) => {
  t.equal(crc16Modbus(Buffer.from('123456789')), 0x4b37);
});

t.test('every split point of a stream of frames yields the same frames', async (t) => {
  const all = Buffer.concat(sample);
  const want = sample.map((b) => b.toString('hex'));
  for (let i = 0; i <= all.length; i++) {
    for (let j = i; j <= all.length; j += 3) {
      const { frames } = await parse([all.subarray(0, i), all.subarray(i, j), all.subarray(j)]);
      if (frames.join() !== want.join()) t.fail(`split at ${i},${j}: ${frames.join()}`);
    }
  }
  const bytewise = await parse([...all].map((b) => Buffer.from([b])));
  t.same(bytewise.frames, want, 'one byte at a time');
});

t.test(
  'a frame with a flipped bit is dropped (badcrc reported), the next one survives',
  async (t) => {
    const broken = Buffer.from(sample[1]!);
    broken[7]! ^= 0x01;
    const { frames, bad } = await parse([broken, sample[0]!]);
    t.same(frames, [sample[0]!.toString('hex')]);
    t.same(bad, [{ addr: 1, seq: 2, cmd: 0x82 }]);
  },
);

t.test(
  'a false start (SOF with a sound length) does not swallow the real frame after it',
  async (t) => {
    // A5 01 10 EF = SOF, addr, len 16, ~16: a plausible header that then never completes.
    const { frames } = await parse([Buffer.from([0xa5, 0x01, 0x10, 0xef, 0x00]), sample[2]!]);
    t.same(frames, [sample[2]!.toString('hex')]);
  },
);

t.test('inter-byte timeout gives up a partial frame and finds the one inside it', async (t) => {
  const p = new FrameParser(20);
  const got: string[] = [];
  p.on('data', (b: Buffer) => got.push(b.toString('hex')));
  p.write(Buffer.from([0xa5, 0x01, 0x20, 0xdf]));
  p.write(sample[0]!);
  await new Promise((r) => setTimeout(r, 60));
  t.same(got, [sample[0]!.toString('hex')]);
  p.destroy();
});

t.test('fuzz: random garbage between valid frames never throws and never mis-frames', async (t) => {
  const frameArb = fc
    .record({
      addr: fc.integer({ min: 0, max: 255 }),
      seq: fc.integer({ min: 0, max: 255 }),
      cmd: fc.integer({ min: 0, max: 255 }),
      payload: fc.uint8Array({ maxLength: MAX_PAYLOAD }),
    })
    .map((f) => encodeFrame(f));
  const garbage = fc.uint8Array({ maxLength: 40 }).map((g) => Buffer.from(g));
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(garbage, frameArb), { maxLength: 8 }),
      garbage,
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
      async (pairs, tail, cuts) => {
        const all = Buffer.concat([...pairs.flat(), tail]);
        const chunks: Buffer[] = [];
        for (let at = 0, k = 0; at < all.length; k++) {
          const n = cuts[k % cuts.length]!;
          chunks.push(all.subarray(at, at + n));
          at += n;
        }
        const { frames } = await parse(chunks);
        const want = pairs.map(([, f]) => f.toString('hex'));
        // Garbage could contain a valid frame only by a 2^-24 accident; every valid frame
        // must come out exactly once, in order, byte-equal.
        if (frames.join('|') !== want.join('|')) {
          throw new Error(`want ${want.join('|')}\n got ${frames.join('|')}`);
        }
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random streams framed exactly');
});
