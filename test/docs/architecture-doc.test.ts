// docs/architecture.md against the code: the slot state machine's diagram and table list exactly
// the transitions of kiosk/slots/transitions.ts, and the layers' import rules hold in every file.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/** Repository path (posix) a relative import specifier of `file` resolves to, or undefined. */
function resolve(file: string, spec: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
  const stem = base.replace(/\.js$/, '');
  for (const c of [`${stem}.ts`, `${stem}.tsx`, base, `${base}/index.ts`])
    if (existsSync(path.join(ROOT, c)) && /\.tsx?$/.test(c)) return c;
  return undefined;
}

function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const specs = [
    ...text.matchAll(/\bfrom\s+'([^']+)'/g),
    ...text.matchAll(/\bimport\s*\(\s*'([^']+)'\s*\)/g),
    ...text.matchAll(/^import\s+'([^']+)'/gm),
  ].map((m) => m[1]!);
  return specs;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

const layerOf = (p: string): string =>
  p.startsWith('cloud-lite/web/src/') ? 'web' : (p.split('/')[0] ?? '');

/** Layers each layer may import (itself included). */
const ALLOWED: Record<string, readonly string[]> = {
  common: ['common'],
  protocol: ['protocol', 'common'],
  hal: ['hal', 'common'],
  kiosk: ['kiosk', 'hal', 'protocol', 'common'],
  'cloud-lite': ['cloud-lite', 'protocol', 'common'],
  web: ['web'],
};

t.test('imports point downwards only, as the layer table says', async (t) => {
  const bad: string[] = [];
  let checked = 0;
  for (const top of ['common', 'protocol', 'hal', 'kiosk', 'cloud-lite']) {
    for (const file of sourceFiles(top)) {
      const from = layerOf(file);
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) {
          if (from === 'protocol' && !/^(node:|@sinclair\/typebox)/.test(spec))
            bad.push(`${file} imports the package ${spec} (protocol/ uses node: and TypeBox only)`);
          continue;
        }
        const target = resolve(file, spec);
        if (!target) continue;
        checked++;
        if (!ALLOWED[from]!.includes(layerOf(target))) bad.push(`${file} imports ${target}`);
      }
    }
  }
  t.ok(checked > 500, `${checked} relative imports checked`);
  t.same(bad, [], 'no import breaks the layer rules');
});

t.test('kioskctl imports no hal driver, only hal types', async (t) => {
  const seen = new Set<string>();
  const stack = ['kiosk/maintenance/cli.ts'];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const s of importsOf(f)) {
      const r = s.startsWith('.') ? resolve(f, s) : undefined;
      if (r) stack.push(r);
    }
  }
  const hal = [...seen].filter((f) => f.startsWith('hal/'));
  t.ok(seen.size > 20, `${seen.size} files reachable from kioskctl`);
  t.same(
    hal.filter((f) => !f.endsWith('/types.ts')),
    [],
    'only hal/*/types.ts',
  );
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
