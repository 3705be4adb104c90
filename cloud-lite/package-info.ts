/** Where cloud-lite is installed and which version it is (from package.json, src/ or dist/). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding package.json), from src/ or from dist/. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

/** The package version, or `unknown`. */
export function hubVersion(): string {
  try {
    return JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}
