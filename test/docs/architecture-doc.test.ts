// docs/architecture.md against the code: the slot state machine's diagram and table list exactly
// the transitions of kiosk/slots/transitions.ts. (The layers' import rules are checked by
// dependency-cruiser in lint, .dependency-cruiser.cjs; test/lint/import-rules.test.ts.)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { SLOT_STATES, TRANSITIONS } from '../../kiosk/slots/transitions.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8');

const edge = (from: string, to: string) => `${from} -> ${to}`;
const CODE = new Set(
  Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => edge(from, to))),
);

t.test('the diagram shows every transition (into disabled as a note), nothing else', async (t) => {
  const m = /```mermaid\n(stateDiagram-v2\n[\s\S]*?)```/.exec(DOC);
  t.ok(m, 'docs/architecture.md has a mermaid state diagram');
  const edges = new Set<string>();
  for (const line of (m?.[1] ?? '').split('\n')) {
    const e = /^\s*(\w+) --> (\w+)\s*$/.exec(line);
    if (e) edges.add(edge(e[1]!, e[2]!));
  }
  const intoDisabled = SLOT_STATES.filter((s) => s !== 'disabled').map((s) => edge(s, 'disabled'));
  for (const e of intoDisabled) t.ok(CODE.has(e), `${e} is legal, as the diagram's note says`);
  t.match(m?.[1] ?? '', 'every other state --> disabled');
  const drawn = new Set([...edges, ...intoDisabled]);
  t.same([...drawn].sort(), [...CODE].sort(), 'diagram + note = transitions.ts');
});

t.test('the transition table lists exactly the legal transitions, once each', async (t) => {
  const start = DOC.indexOf('### Every transition');
  t.ok(start >= 0, 'the doc has the section');
  const rows = DOC.slice(start)
    .split('\n')
    .map((l) => /^\| `(\w+)` \| `(\w+)` \| (.+) \|$/.exec(l))
    .filter((r): r is RegExpExecArray => r !== null);
  const listed = rows.map((r) => edge(r[1]!, r[2]!));
  t.equal(new Set(listed).size, listed.length, 'no transition listed twice');
  t.same([...listed].sort(), [...CODE].sort(), 'table = transitions.ts');
  for (const r of rows) t.ok(r[3]!.trim().length > 0, `${edge(r[1]!, r[2]!)} says when`);
});

t.test(
  'the README links the docs and no longer sends readers outside the repository',
  async (t) => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    t.match(readme, '(docs/architecture.md)');
    t.match(readme, '(docs/protocol.md)');
    t.notMatch(readme, 'shared/DESIGN.md');
  },
);

t.test('the layout names every folder of the tree, and only folders that exist', async (t) => {
  const block = /## Layout and layers\n\n```text\n([\s\S]*?)```/.exec(DOC)?.[1] ?? '';
  t.ok(block, 'the doc has the layout block');
  const named = (re: RegExp, text: string) => [...text.matchAll(re)].map((m) => m[1]!);
  const top = named(/^([a-z-]+)\/ /gm, block);
  const devices = named(/^ {2}([a-z-]+)\/ /gm, block);
  // Folders of the repository's files (what git tracks: no build output, no test artefacts).
  const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
  const dirs = (rel: string) => {
    const prefix = rel === '.' ? '' : `${rel}/`;
    const names = files
      .filter((f) => f.startsWith(prefix))
      .map((f) => f.slice(prefix.length).split('/'))
      .filter((parts) => parts.length > 1 && !parts[0]!.startsWith('.'))
      .map((parts) => parts[0]!);
    return [...new Set(names)];
  };
  const tracked = dirs('.').filter((d) => !['bin', 'tap-snapshots'].includes(d));
  t.same([...top].sort(), [...tracked].sort(), 'top-level folders = the tree (bin/ aside)');
  t.same([...devices].sort(), dirs('hal').sort(), 'one line per hal device folder');
  const inside = DOC.slice(DOC.indexOf('### Inside kioskd'), DOC.indexOf('### Inside cloud-lite'));
  const kioskFolders = named(/^\| `([a-z-]+)\/` \|/gm, inside);
  t.same(
    [...kioskFolders].sort(),
    dirs('kiosk').sort(),
    'the kioskd table lists every kiosk/ folder',
  );
});
