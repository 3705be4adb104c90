// The README's quick start, as written, on a fresh clone: `git clone` of this repository
// into a temp dir, node_modules copied in (what `npm ci` would install, without the
// network: the set-up must see it matches the lock and leave it alone), then the README's
// FIRST command line run by bash with `--scripted` handed to the demo. It must install
// nothing (CI's machine has everything), start the demo and pass the scripted run, leaving
// nothing behind. The SECOND line must be the test command CI runs (.ci/run).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { isRoot } from '../helpers/loop-device.js';
import { startDemoChild, within } from './demo-child.js';
import { checkScriptedRun } from './scripted-checks.js';

// A fresh clone, a copy of node_modules and the scripted demo, whose kiosks pre-stage their
// films disks before it starts (about 10 s more): 170 s seen on a loaded 2-core machine, so more
// than the suite's 180 s per file.
t.setTimeout(360_000);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The command lines of the README's "Quick start" code block, comments removed. */
export function quickStartLines(readme: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no "## Quick start" section with a ```sh block');
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

t.test('the README quick start has two lines; the second is what CI runs', async (t) => {
  const lines = quickStartLines(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  t.equal(lines.length, 2, 'two command lines');
  t.match(lines[0], /&& npm run demo$/, 'the first sets up, then starts the demo');
  t.equal(lines[1], 'npm test', 'the second runs the suite');
  const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
  t.match(ci, /^scripts\/setup\.sh /m, '.ci/run sets up the same way');
  t.ok(
    ci.split('\n').some((l) => l.trim().startsWith(`${lines[1]} `) || l.trim() === lines[1]),
    `.ci/run runs "${lines[1]}"`,
  );
});

t.test('a fresh clone: the first line sets up and the scripted demo passes', async (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'quick-start-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const clone = path.join(tmp, 'disk-kiosk');
  // The committed state of this checkout, as a newcomer gets it.
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone], { stdio: 'pipe' });
  t.notOk(existsSync(path.join(clone, 'node_modules')), 'the clone has no node_modules');
  cpSync(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  const [first] = quickStartLines(readFileSync(path.join(clone, 'README.md'), 'utf8'));
  // `npm run demo -- --scripted --dir <tmp>`: npm hands what follows `--` to the demo.
  const demo = await startDemoChild(t, ['--scripted'], {
    commandLine: `${first} --`,
    cwd: clone,
  });
  const how = await within(demo.exited, 240_000, 'still running after 240 s');
  const out = demo.output();
  t.equal(how, 0, `exit 0\n${out.slice(-3000)}`);
  t.match(out, 'node_modules: matches package-lock.json', 'npm ci was not needed');
  t.match(out, /system packages: all present/, 'every Debian package was already there');
  t.notMatch(out, /is not installed|are not installed/, 'no tool missing');
  await checkScriptedRun(t, demo, isRoot() ? 'loop' : 'directory');
});
