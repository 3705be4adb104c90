/**
 * kioskctl: the technicians' maintenance CLI. Talks to the running kioskd over its Unix
 * socket (never to the hardware); status, slots, config, logs, enrol, qr and diag also work
 * with kioskd down. Exit codes: 0 ok, 1 failure, 3 `status` with kioskd not running.
 */
import { Command, Option } from 'commander';
import { bashCompletion } from './completion.js';
import { CliContext } from './context.js';
import { type CliIo, closeInput, processIo } from './io.js';
import { addConfigCommands } from './subcommands/config.js';
import { addDaemonCommands } from './subcommands/daemon.js';
import { addDiagCommand } from './subcommands/diag.js';
import { addLocalCommands } from './subcommands/local.js';
import { addStatusCommands } from './subcommands/status.js';
import { addUpdateCommands } from './subcommands/update.js';

/** The whole command tree (also used to generate the completion script and the man page). */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('kioskctl')
    .description("disk-kiosk technicians' maintenance CLI: talks to kioskd over its Unix socket")
    .addOption(new Option('--json', 'machine-readable output (stable shape)'))
    .addOption(
      new Option(
        '-c, --config <file>',
        'kioskd configuration file (default /etc/disk-kiosk/kioskd.json, or $KIOSKCTL_CONFIG)',
      ),
    )
    .addOption(
      new Option(
        '--socket <path>',
        "kioskd's maintenance socket (default: the config's maintenanceSocket)",
      ),
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .hook('preAction', (_this, actionCommand) => {
      ctx.opts = actionCommand.optsWithGlobals();
    })
    .addHelpText(
      'after',
      '\nWithout kioskd: status and slots read the database read-only; config, logs, enrol, qr and diag\n' +
        'work as they are. Permissions: the socket is 0660, group kiosk-tech; run as root or as a member.',
    );
  addStatusCommands(program, ctx);
  addDaemonCommands(program, ctx);
  addConfigCommands(program, ctx);
  addLocalCommands(program, ctx);
  addDiagCommand(program, ctx);
  addUpdateCommands(program, ctx);
  program
    .command('completion')
    .description('print the bash completion script')
    .action(() => {
      ctx.out(bashCompletion(program));
    });
  // Every subcommand reports usage errors through the same streams and exit override.
  const inherit = (cmd: Command) => {
    for (const c of cmd.commands) {
      c.exitOverride().configureOutput({
        writeOut: (s) => ctx.io.stdout.write(s),
        writeErr: (s) => ctx.io.stderr.write(s),
      });
      c.showHelpAfterError();
      inherit(c);
    }
  };
  inherit(program);
  return program;
}

/** kioskctl entry point (bin/kioskctl.js). Resolves with the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const ctx = new CliContext(io);
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as { exitCode?: number; code?: string };
    if (typeof e.exitCode === 'number')
      return e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.help' ||
        e.code === 'commander.version'
        ? 0
        : e.exitCode;
    ctx.fail(err);
  } finally {
    closeInput(io);
  }
  return ctx.exitCode;
}
