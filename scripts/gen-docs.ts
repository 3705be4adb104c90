// Writes the generated reference: the wire protocol's JSON Schemas (docs/schemas/), the hub's
// HTTP API as OpenAPI 3.1 (docs/openapi.json) and the web client's types generated from it
// (cloud-lite/web/src/lib/api-types.gen.ts), kioskctl's manual (docs/kioskctl.1.md, and
// images/man/kioskctl.1 in roff for the SD image) and its bash completion
// (images/completions/kioskctl.bash).
//
//   npm run gen:docs              write them (and delete schema files no longer generated)
//   npm run gen:docs -- --check   regenerate into a temp dir and compare with the committed
//                                 files; exit 1 naming each stale file (npm run lint runs this)
//   --root <dir>                  another checkout than this one (tests)
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kioskctlDocFiles } from './docs/kioskctl-docs.js';
import { openApiFiles } from './docs/openapi-doc.js';
import { protocolSchemaFiles, SCHEMA_DIR } from './docs/protocol-schemas.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FIX = 'npm run gen:docs';

/** Every generated file: repository path -> text. */
export async function generatedFiles(): Promise<Record<string, string>> {
  return { ...protocolSchemaFiles(), ...(await openApiFiles()), ...kioskctlDocFiles() };
}

/** Repository paths of the files under `dir` (relative to `root`); none if it is missing. */
async function listTree(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...(await listTree(root, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

/** Writes `files` under `root`; deletes files under SCHEMA_DIR that are not among them. */
export async function writeGenerated(root: string, files: Record<string, string>) {
  for (const stale of await listTree(root, SCHEMA_DIR)) {
    if (!(stale in files)) await unlink(path.join(root, stale));
  }
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
}

async function readOr(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

/** Line number (1-based) where two texts first differ. */
function firstDifferentLine(a: string, b: string): number {
  const x = a.split('\n');
  const y = b.split('\n');
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return i + 1;
}

/**
 * Regenerates into a temp dir and compares it with the committed files under `root`.
 * Returns one line per stale file (empty when everything is current). `generated` is a
 * generation already made (tests compare several trees against one; generating takes seconds).
 */
export async function staleFiles(
  root: string,
  generated?: Record<string, string>,
): Promise<string[]> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'gen-docs-'));
  try {
    const files = generated ?? (await generatedFiles());
    await writeGenerated(tmp, files);
    const problems: string[] = [];
    for (const rel of Object.keys(files).sort()) {
      const want = await readFile(path.join(tmp, rel), 'utf8');
      const have = await readOr(path.join(root, rel));
      if (have === undefined) problems.push(`${rel} is missing`);
      else if (have !== want)
        problems.push(`${rel} is stale (differs from line ${firstDifferentLine(have, want)})`);
    }
    for (const rel of await listTree(root, SCHEMA_DIR)) {
      if (!(rel in files)) problems.push(`${rel} is no longer generated`);
    }
    return problems;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function rootArg(): string {
  const i = process.argv.indexOf('--root');
  return i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]!) : ROOT;
}

async function main(): Promise<void> {
  const root = rootArg();
  if (process.argv.includes('--check')) {
    const problems = await staleFiles(root);
    for (const p of problems) process.stderr.write(`${p}: run ${FIX}\n`);
    if (problems.length > 0) {
      process.stderr.write(`${problems.length} generated file(s) out of date; run ${FIX}\n`);
      process.exitCode = 1;
    }
    return;
  }
  const files = await generatedFiles();
  await writeGenerated(root, files);
  process.stdout.write(
    `wrote ${Object.keys(files).length} files (${SCHEMA_DIR}/, docs/openapi.json, cloud-lite/web/src/lib/api-types.gen.ts, docs/kioskctl.1.md, images/man/kioskctl.1, images/completions/kioskctl.bash)\n`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    process.stderr.write(`gen-docs failed: ${err.message}\n`);
    process.exitCode = 1;
  });
}
