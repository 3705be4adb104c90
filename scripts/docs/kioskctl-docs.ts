// kioskctl's manual (Markdown for the repository, roff for `man` on the SD image) and bash
// completion, generated from its command tree so all match the help texts.

import { bashCompletion } from '../../kiosk/kioskctl/completion.js';
import { CliContext } from '../../kiosk/kioskctl/context.js';
import { manPage, roffManPage } from '../../kiosk/kioskctl/help-doc.js';
import { processIo } from '../../kiosk/kioskctl/io.js';
import { buildProgram } from '../../kiosk/kioskctl/main.js';
import { packageVersion } from '../../kiosk/version.js';

/** Repository path -> text. */
export function kioskctlDocFiles(): Record<string, string> {
  const program = buildProgram(new CliContext(processIo()));
  return {
    'docs/kioskctl.1.md': manPage(program, packageVersion()),
    'images/man/kioskctl.1': roffManPage(program, packageVersion()),
    'images/completions/kioskctl.bash': bashCompletion(program),
  };
}
