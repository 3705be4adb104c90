// Generates docs/kioskctl.1.md (man-style page) and images/completions/kioskctl.bash from
// kioskctl's command tree, so both always match the help texts. `npx tsx scripts/gen-kioskctl-docs.ts`
// (`--check` fails when the committed files are stale).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProgram } from '../kiosk/maintenance/cli.js';
import { CliContext } from '../kiosk/maintenance/cli-context.js';
import { processIo } from '../kiosk/maintenance/cli-io.js';
import { bashCompletion } from '../kiosk/maintenance/completion.js';
import { manPage } from '../kiosk/maintenance/help-doc.js';
import { packageVersion } from '../kiosk/maintenance/version.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const program = buildProgram(new CliContext(processIo()));
const files: Record<string, string> = {
  'docs/kioskctl.1.md': manPage(program, packageVersion()),
  'images/completions/kioskctl.bash': bashCompletion(program),
};
let stale = 0;
for (const [rel, text] of Object.entries(files)) {
  const file = path.join(root, rel);
  if (process.argv.includes('--check')) {
    let cur = '';
    try {
      cur = readFileSync(file, 'utf8');
    } catch {}
    if (cur !== text) {
      process.stderr.write(`${rel} is stale: run npx tsx scripts/gen-kioskctl-docs.ts\n`);
      stale++;
    }
  } else {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    process.stdout.write(`wrote ${rel}\n`);
  }
}
process.exitCode = stale ? 1 : 0;
