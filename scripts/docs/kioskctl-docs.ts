// kioskctl's manual (Markdown for the repository, roff for `man` on the SD image) and bash
// completion, generated from its command tree so all match the help texts.
import { buildProgram } from '../../kiosk/maintenance/cli.js';
import { CliContext } from '../../kiosk/maintenance/cli-context.js';
import { processIo } from '../../kiosk/maintenance/cli-io.js';
import { bashCompletion } from '../../kiosk/maintenance/completion.js';
import { manPage, roffManPage } from '../../kiosk/maintenance/help-doc.js';
import { packageVersion } from '../../kiosk/maintenance/version.js';

/** Repository path -> text. */
export function kioskctlDocFiles(): Record<string, string> {
  const program = buildProgram(new CliContext(processIo()));
  return {
    'docs/kioskctl.1.md': manPage(program, packageVersion()),
    'images/man/kioskctl.1': roffManPage(program, packageVersion()),
    'images/completions/kioskctl.bash': bashCompletion(program),
  };
}
