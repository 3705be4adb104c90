// Every repository path a doc names in backticks (starting at a top-level folder) exists, so a
// move leaves no doc pointing at a file that is gone.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';

const root = path.resolve(import.meta.dirname, '../..');
const TOP = [
  'cloud-lite',
  'kiosk',
  'hal',
  'protocol',
  'common',
  'scripts',
  'deploy',
  'images',
  'test',
];
const PATH = new RegExp(
  `\`((?:${TOP.join('|')})/[A-Za-z0-9_./-]+\\.(?:ts|js|md|sh|json|cjs|caddy|service|timer|conf))\``,
  'g',
);

const docs = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'deploy/README.md',
  'images/README.md',
];

for (const doc of docs) {
  t.test(doc, async (t) => {
    const text = readFileSync(path.join(root, doc), 'utf8');
    const missing = [...text.matchAll(PATH)]
      .map((m) => m[1]!)
      .filter((p) => !p.includes('<') && !existsSync(path.join(root, p)));
    t.same([...new Set(missing)], [], `every path ${doc} names exists`);
  });
}
