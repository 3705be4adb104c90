/** The worked hex examples in PROTOCOL.md are real frames: each one passes the parser intact. */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { FrameParser } from '../../../hal/motor-board/frame-parser.js';

t.test('every hex example in PROTOCOL.md is a valid frame', async (t) => {
  const doc = await readFile(
    new URL('../../../hal/motor-board/PROTOCOL.md', import.meta.url),
    'utf8',
  );
  const examples = [...doc.matchAll(/\bA5(?: [0-9A-F]{2}){7,}/g)].map((m) => m[0]);
  t.ok(examples.length >= 15, `found ${examples.length} examples`);
  for (const ex of examples) {
    const bytes = Buffer.from(ex.replace(/ /g, ''), 'hex');
    const p = new FrameParser();
    const out: Buffer[] = [];
    p.on('data', (b: Buffer) => out.push(b));
    p.end(bytes);
    await new Promise((r) => p.on('end', r));
    t.same(out, [bytes], ex);
  }
});
