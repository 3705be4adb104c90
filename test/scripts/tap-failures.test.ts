// .ci/run's failure list (scripts/tap-failures.awk) over a tap stream as tap's reporter
// writes it: each failed assertion is one line naming its file and subtests, with where it
// failed and what was wanted and found; a subtest that failed only because of an assertion
// inside it is not listed again; a green stream lists nothing.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const awk = (input: string): string =>
  execFileSync('awk', ['-f', path.join(ROOT, 'scripts/tap-failures.awk')], {
    input,
    encoding: 'utf8',
  });

const RED = `TAP version 14
# Subtest: test/a.test.ts
    # Subtest: money
        ok 1 - should be equal
        not ok 2 - the refund is captured once
          ---
          compare: ===
          at:
            fileName: test/a.test.ts
          stack: >
            Test.<anonymous> (test/a.test.ts:41:5)
          diff: |
            --- expected
            +++ actual
            @@ -1,1 +1,1 @@
            -1
            +2
          ...
        
        1..2
    not ok 1 - money # time=5ms
      ---
      at:
        fileName: test/a.test.ts
      ...
    
    # Subtest: fine
        ok 1 - yes
        1..1
    ok 2 - fine # time=1ms
    
    1..2
not ok 1 - test/a.test.ts # time=10ms
  ---
  exitCode: 1
  ...

# Subtest: test/b.test.ts
    not ok 1 - timeout!
      ---
      signal: SIGTERM
      ...
    1..1
not ok 2 - test/b.test.ts # time=30000ms
`;

t.test('each failed assertion once, with its path, place and diff', async (t) => {
  const out = awk(RED).trimEnd().split('\n');
  t.same(out, [
    'not ok: test/a.test.ts > money > the refund is captured once',
    '    at Test.<anonymous> (test/a.test.ts:41:5)',
    '    -1',
    '    +2',
    'not ok: test/b.test.ts > timeout!',
    '    signal: SIGTERM',
    '2 failed assertion(s) or test(s) listed above',
  ]);
});

t.test('a green stream lists nothing', async (t) => {
  t.equal(
    awk(
      'TAP version 14\n# Subtest: test/a.test.ts\n    ok 1 - yes\n    1..1\nok 1 - test/a.test.ts\n',
    ),
    '',
  );
});
