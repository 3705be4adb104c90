// docs/cloning.md is reachable: the Markdown that names it (a relative link `[x](path)`, or a
// repository path in backticks, as the README writes them) names the tracked file, README.md,
// docs/architecture.md and images/README.md point at it, and its own links resolve.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tracked = (glob: string) =>
  execFileSync('git', ['ls-files', glob], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

/** Relative link targets and backticked `*.md` paths of a Markdown text, code blocks left out. */
function referencesIn(markdown: string): { links: string[]; named: string[] } {
  const text = markdown.replace(/```[\s\S]*?```/g, '');
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((href) => !/^[a-z][a-z0-9+.-]*:/i.test(href) && !href.startsWith('#'))
    .map((href) => decodeURI(href.split('#')[0] as string));
  const named = [...text.matchAll(/`([A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)+\.md)`/g)].map(
    (m) => m[1] as string,
  );
  return { links, named };
}

t.test('referencesIn finds relative links and backticked paths, not URLs or anchors', async (t) => {
  const r = referencesIn(
    'See [a](docs/a.md#x), [b](https://e.org/b.md), [c](#c), `docs/d.md`, `e.md`.\n```\n[f](f.md)\n```\n',
  );
  t.same(r, { links: ['docs/a.md'], named: ['docs/d.md'] });
});

/** Where a reference in `file` leads (links: from the file's folder; backticked paths: from the root or the folder). */
const resolves = (file: string, ref: string, named: boolean) =>
  existsSync(path.join(ROOT, path.dirname(file), ref)) ||
  (named && existsSync(path.join(ROOT, ref)));

t.test(
  'every reference to cloning.md in the Markdown, and every link in it, resolves',
  async (t) => {
    const files = tracked('*.md');
    t.ok(files.includes('docs/cloning.md'), 'docs/cloning.md is tracked');
    const broken: string[] = [];
    let seen = 0;
    for (const f of files) {
      const { links, named } = referencesIn(readFileSync(path.join(ROOT, f), 'utf8'));
      const all = [
        ...links.map((ref) => ({ ref, named: false })),
        ...named.map((ref) => ({ ref, named: true })),
      ];
      for (const r of all) {
        if (f !== 'docs/cloning.md' && path.basename(r.ref) !== 'cloning.md') continue;
        seen++;
        if (!resolves(f, r.ref, r.named)) broken.push(`${f}: ${r.ref}`);
      }
    }
    t.ok(seen >= 3, `references checked: ${seen}`);
    t.same(broken, [], 'no broken references');
  },
);

t.test('the docs that describe image mode point at docs/cloning.md', async (t) => {
  for (const f of ['README.md', 'docs/architecture.md', 'images/README.md']) {
    const { links, named } = referencesIn(readFileSync(path.join(ROOT, f), 'utf8'));
    const refs = [...links, ...named].flatMap((p) => [
      path.normalize(path.join(path.dirname(f), p)),
      path.normalize(p),
    ]);
    t.ok(refs.includes('docs/cloning.md'), `${f} points at docs/cloning.md`);
  }
});
