/**
 * External programs a test needs. A missing one FAILS the test with one line naming it and
 * the command that installs it (no stack trace), whoever runs the suite: the README's
 * first command installs them all.
 *
 *   if (!haveTools(t, ['socat'])) return;
 */
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { missingTools, missingToolsLine } from '../../hal/missing-tool.js';

export function haveTools(
  t: { fail(message: string, extra: object): unknown },
  tools: string[],
  neededBy = 'this test',
): boolean {
  const missing = missingTools(tools);
  if (missing.length === 0) return true;
  // No stack and no source position: the line says all there is to say.
  t.fail(missingToolsLine(missing, neededBy), { stack: '', at: null, diagnostic: false });
  return false;
}

/**
 * A PATH that finds every program of the current PATH except `tools`: a temp directory of
 * symlinks (removed at teardown). For tests of what a program does when a tool is missing.
 */
export function pathWithout(t: { teardown(fn: () => unknown): void }, tools: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'path-without-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const linked = new Set(tools);
  for (const d of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      if (linked.has(name)) continue;
      linked.add(name);
      symlinkSync(path.join(d, name), path.join(dir, name));
    }
  }
  return dir;
}
