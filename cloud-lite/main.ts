import { Command } from 'commander';
import { loadConfig } from './config.js';
import { HubError } from './errors.js';
import { createLogger } from './log.js';
import type { HubServer } from './server.js';

/** cloud-lite entry point: `cloud-lite [--config file]`; environment CLOUD_LITE_* overrides the file. */
export async function main(argv: string[]): Promise<number> {
  const io = {
    env: process.env,
    out: (s: string) => process.stdout.write(s),
    err: (s: string) => process.stderr.write(s),
  };
  if (argv[0] === 'user') {
    const { runUserCommand } = await import('./rental/cli/user-command.js');
    return runUserCommand(argv.slice(1), io);
  }
  if (argv[0] === 'refund') {
    const { runRefundCommand } = await import('./rental/cli/refund-command.js');
    return runRefundCommand(argv.slice(1), io);
  }
  if (argv[0] === 'content') {
    const { runContentCommand } = await import('./content/cli.js');
    return runContentCommand(argv.slice(1), io);
  }
  if (argv[0] === 'rollout') {
    const { runRolloutCommand } = await import('./updates/cli.js');
    return runRolloutCommand(argv.slice(1), io);
  }
  if (argv[0] === 'check') {
    const { runCheckCommand } = await import('./invariants/check-command.js');
    return runCheckCommand(argv.slice(1), io);
  }
  if (argv[0] === 'diag') {
    const { runDiagCommand } = await import('./registry/diag-cli.js');
    return runDiagCommand(argv.slice(1), io);
  }
  if (argv[0] === 'migrate') {
    const { runMigrateCommand } = await import('./store/migrate-command.js');
    return runMigrateCommand(argv.slice(1), io);
  }
  if (argv[0] === 'backup' || argv[0] === 'restore') {
    const { runBackupCommand, runRestoreCommand } = await import('./store/backup-command.js');
    return (argv[0] === 'backup' ? runBackupCommand : runRestoreCommand)(argv.slice(1), io);
  }
  const program = new Command('cloud-lite')
    .description('disk-kiosk hub: kiosk WebSocket hub, rental API and web pages')
    .addHelpText(
      'after',
      '\nOther commands (each answers --help):\n  cloud-lite user ...      accounts (create one: renter, technician, operator, admin)\n  cloud-lite refund <id>   refund captured money of a payment (all or --amount), with --reason; audited\n  cloud-lite content ...   import a content package\n  cloud-lite rollout ...   staged software rollouts to the kiosks\n  cloud-lite diag <kiosk>  a kiosk diagnostics bundle or log lines, through the running hub\n  cloud-lite check         check the records against the money-and-disk invariants (exit 2 on violations)\n  cloud-lite migrate       bring the store schema up to date (SQLite or PostgreSQL)\n  cloud-lite backup ...    online copy of the database and signing key, with retention\n  cloud-lite restore ...   put a backup back into a stopped hub',
    )
    .option(
      '-c, --config <file>',
      'configuration file (JSON); CLOUD_LITE_<KEY> environment variables override it',
    )
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    return (err as { exitCode?: number }).exitCode ?? 1;
  }
  const opts = program.opts<{ config?: string }>();
  let server: HubServer;
  try {
    const config = loadConfig({ file: opts.config, env: process.env });
    const logger = createLogger(config.logLevel);
    // Loaded here: the other commands (backup, user, ...) start without the whole server.
    const { HubServer } = await import('./server.js');
    server = new HubServer({ config, logger });
    await server.start();
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`cloud-lite: ${e instanceof HubError ? `${e.code}: ` : ''}${e.message}\n`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    const onSignal = (signal: string) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.stderr.write(`cloud-lite: ${signal}, shutting down\n`);
      server.stop().then(
        () => resolve(0),
        (err) => {
          process.stderr.write(`cloud-lite: shutdown failed: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
