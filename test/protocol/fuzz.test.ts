import fc from 'fast-check';
import t from 'tap';
import {
  ERROR_CODES,
  HUB_TO_KIOSK_ACTIONS,
  KIOSK_TO_HUB_ACTIONS,
  type ParseResult,
  parseFrame,
} from '../../protocol/index.js';

const actions = [...KIOSK_TO_HUB_ACTIONS, ...HUB_TO_KIOSK_ACTIONS];

/** Throws (failing the property) unless r is a well-formed ParseResult. */
function assertWellFormed(r: ParseResult): true {
  if (r.ok) {
    const f = r.frame;
    if (![2, 3, 4].includes(f.type)) throw new Error(`bad frame type ${f.type}`);
    if (typeof f.id !== 'string' || f.id.length === 0 || f.id.length > 64)
      throw new Error('bad id');
    if (f.type === 2 && !actions.includes(f.action as never))
      throw new Error('unknown action accepted');
    if (f.type === 4 && !ERROR_CODES.includes(f.code)) throw new Error('unknown code accepted');
    const payload = f.type === 4 ? f.details : f.payload;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new Error('payload not an object');
    }
    if (/"(__proto__|constructor|prototype)":/.test(JSON.stringify(f))) {
      throw new Error('forbidden key accepted');
    }
  } else {
    if (!ERROR_CODES.includes(r.error.code)) throw new Error(`bad code ${r.error.code}`);
    if (typeof r.error.message !== 'string' || r.error.message === '')
      throw new Error('no message');
    if (r.error.messageId !== undefined && typeof r.error.messageId !== 'string') {
      throw new Error('bad messageId');
    }
  }
  return true;
}

const runs = { numRuns: 1500 };

t.test('random strings never throw', async (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) =>
      assertWellFormed(parseFrame(s)),
    ),
    runs,
  );
  t.pass('1500 random strings');
});

t.test('random bytes never throw', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) =>
      assertWellFormed(parseFrame(Buffer.from(b))),
    ),
    runs,
  );
  t.pass('1500 random byte arrays');
});

t.test('random JSON values never throw', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => assertWellFormed(parseFrame(JSON.stringify(v)))),
    runs,
  );
  t.pass('1500 random JSON values');
});

const frameLike = fc.oneof(
  fc.tuple(
    fc.constantFrom<unknown>(2, 3, 4, 5, 0, -1, '2', null, 2.5),
    fc.oneof(fc.string({ maxLength: 70 }), fc.uuid(), fc.anything()),
    fc.oneof(fc.constantFrom<unknown>(...actions, 'Nope', '__proto__', 'toString'), fc.anything()),
    fc.anything({ withNullPrototype: true, maxDepth: 4 }),
  ),
  fc.tuple(fc.constantFrom(3), fc.uuid(), fc.anything({ maxDepth: 4 })),
  fc.tuple(
    fc.constantFrom(4),
    fc.uuid(),
    fc.oneof(fc.constantFrom(...ERROR_CODES), fc.anything()),
    fc.anything(),
    fc.anything({ maxDepth: 4 }),
  ),
  fc.array(fc.anything({ maxDepth: 3 }), { maxLength: 6 }),
);

t.test('frame-shaped arrays of anything never throw', async (t) => {
  const directions = fc.constantFrom(undefined, 'kioskToHub' as const, 'hubToKiosk' as const);
  fc.assert(
    fc.property(frameLike, directions, (frame, direction) => {
      const text = JSON.stringify(frame) ?? '';
      return assertWellFormed(parseFrame(text, direction ? { direction } : {}));
    }),
    runs,
  );
  t.pass('1500 frame-like values');
});

t.test('valid frames with hostile keys spliced in are refused', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom('__proto__', 'constructor', 'prototype'),
      fc.jsonValue({ maxDepth: 2 }),
      (key, v) => {
        const text = `[2,"k","Heartbeat",{"a":{${JSON.stringify(key)}:${JSON.stringify(v)}}}]`;
        const r = parseFrame(text);
        return !r.ok && r.error.code === 'FormatViolation' && r.error.messageId === 'k';
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 hostile frames refused');
});
