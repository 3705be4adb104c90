import t from 'tap';
import {
  EV_KEY,
  EV_SYN,
  encodeEvent,
  InputEventDecoder,
  interpret,
  KEY,
  keyOf,
  keyStroke,
  nativeLayout,
  SYN_DROPPED,
} from '../../../hal/keypad/input-event.js';

const presses = (d: InputEventDecoder, bytes: Buffer) =>
  d.push(bytes).flatMap((e) => {
    const r = interpret(e);
    return r === null ? [] : [r === 'dropped' ? 'dropped' : r.key];
  });

for (const layout of [24, 16] as const) {
  t.test(`${layout}-byte records split at every byte boundary decode the same`, async (t) => {
    const bytes = Buffer.concat([
      keyStroke(KEY.KP1, 1_000, layout),
      keyStroke(KEY['2'], 1_120, layout),
      keyStroke(KEY.KPENTER, 1_240, layout),
    ]);
    t.equal(bytes.length, 18 * layout, 'six records a stroke');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new InputEventDecoder(layout);
      const got = [...presses(d, bytes.subarray(0, cut)), ...presses(d, bytes.subarray(cut))];
      if (got.join() !== '1,2,enter') t.fail(`cut at ${cut}: ${got.join()}`);
    }
    const d = new InputEventDecoder(layout);
    const one: string[] = [];
    for (const b of bytes) one.push(...presses(d, Buffer.from([b])));
    t.same(one, ['1', '2', 'enter'], 'one byte at a time');
  });
}

t.test('a record keeps its fields (time, type, code, value)', async (t) => {
  const e = { sec: 1_750_000_000, usec: 123_456, type: EV_KEY, code: KEY.KP9, value: 1 };
  t.same(new InputEventDecoder(24).push(encodeEvent(e, 24)), [e]);
  t.same(new InputEventDecoder(16).push(encodeEvent(e, 16)), [e]);
});

t.test('releases, auto-repeat and sync are not presses; SYN_DROPPED is reported', async (t) => {
  const rec = (type: number, code: number, value: number) => ({
    sec: 0,
    usec: 0,
    type,
    code,
    value,
  });
  t.equal(interpret(rec(EV_KEY, KEY.KP5, 0)), null, 'release');
  t.equal(interpret(rec(EV_KEY, KEY.KP5, 2)), null, 'auto-repeat');
  t.equal(interpret(rec(EV_SYN, 0, 0)), null, 'SYN_REPORT');
  t.equal(interpret(rec(EV_SYN, SYN_DROPPED, 0)), 'dropped');
  t.same(interpret(rec(EV_KEY, KEY.KP5, 1)), { key: '5', code: KEY.KP5 });
});

t.test('keypad and top-row keys map to digits; unknown keys are other', async (t) => {
  t.equal(keyOf(KEY.KP0), '0');
  t.equal(keyOf(KEY['0']), '0');
  t.equal(keyOf(KEY.ENTER), 'enter');
  t.equal(keyOf(KEY.BACKSPACE), 'backspace');
  t.equal(keyOf(KEY.KPDOT), 'clear');
  t.equal(keyOf(KEY.NUMLOCK), 'other');
  t.equal(keyOf(30), 'other', 'KEY_A');
});

t.test('record size follows the ABI', async (t) => {
  t.equal(nativeLayout('arm64'), 24);
  t.equal(nativeLayout('x64'), 24);
  t.equal(nativeLayout('arm'), 16);
});
