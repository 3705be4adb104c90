import fc from 'fast-check';
import t from 'tap';
import { isoTime } from '../../common/iso-time.js';

t.test('isoTime is Date.prototype.toISOString, field for field', async (t) => {
  const edges = [
    0,
    -0,
    1,
    -1,
    999,
    1000,
    59_999,
    60_000,
    -60_001,
    0.5,
    -0.5,
    1e12 + 0.9,
    -1e12 - 0.9,
    Date.UTC(2026, 11, 7, 4, 59, 59, 999),
    Date.UTC(2026, 11, 7, 5, 0, 0, 0),
    253_402_300_799_999,
    253_402_300_800_000,
    -62_167_219_200_000,
    -62_167_219_200_001,
    8.64e15,
    -8.64e15,
    8.64e15 - 1,
    -8.64e15 + 1,
  ];
  for (const ms of edges) t.equal(isoTime(ms), new Date(ms).toISOString(), `at ${ms}`);
  // Times in the same minute one after another (the cached head) and anywhere in Date's range.
  fc.assert(
    fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), fc.nat(120_000), (ms, step) => {
      const next = Math.min(8.64e15, ms + step);
      return (
        isoTime(ms) === new Date(ms).toISOString() && isoTime(next) === new Date(next).toISOString()
      );
    }),
    { numRuns: 5000 },
  );
});

t.test(
  'times of several minutes formatted in turn (a kept minute replaced by another)',
  async (t) => {
    const base = Date.UTC(2026, 11, 7, 4, 0, 30, 5);
    const wrong: number[] = [];
    // Now and deadlines 1, 5 and 8 minutes later in turn: 8 minutes later shares a kept slot.
    for (let i = 0; i < 2000; i++) {
      for (const ms of [
        base + i * 37,
        base + i * 37 + 60_000,
        base + i * 37 + 300_000,
        base + i * 37 + 480_000,
      ]) {
        if (isoTime(ms) !== new Date(ms).toISOString()) wrong.push(ms);
      }
    }
    t.same(wrong, [], 'every one as toISOString writes it');
  },
);

t.test('an invalid time throws the RangeError toISOString throws', async (t) => {
  for (const ms of [Number.NaN, 8.64e15 + 1, -8.64e15 - 1, Number.POSITIVE_INFINITY]) {
    t.throws(() => isoTime(ms), RangeError, `at ${ms}`);
  }
  t.equal(isoTime(1000), new Date(1000).toISOString(), 'a valid time after an invalid one');
});
