import t from 'tap';
import { timeOrderedUuid } from '../../common/time-ordered-id.js';
import { UUID_PATTERN } from '../../protocol/schemas/common.js';

t.test('a version 7 UUID: the time first, then random bits', async (t) => {
  const ms = Date.UTC(2026, 11, 7, 1, 40, 0, 123);
  const id = timeOrderedUuid(ms);
  t.match(id, new RegExp(UUID_PATTERN), 'a UUID as the protocol checks it');
  t.match(
    id,
    /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    'version 7, RFC variant',
  );
  t.equal(
    Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16),
    ms,
    'the first 48 bits are the time in ms',
  );
  const same = new Set(Array.from({ length: 1000 }, () => timeOrderedUuid(ms)));
  t.equal(same.size, 1000, 'ids of the same millisecond differ (74 random bits)');
});

t.test('ids of later milliseconds sort after earlier ones', async (t) => {
  const ids = [0, 1, 255, 256, 1_765_000_000_000, 1_765_000_000_001, 2 ** 48 - 1].map((ms) =>
    timeOrderedUuid(ms),
  );
  t.same([...ids].sort(), ids, 'text order is time order');
});
