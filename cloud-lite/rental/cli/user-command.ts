import { type CliIo, runCli } from '../../cli-run.js';
import { loadConfig } from '../../config.js';
import { openStore } from '../../store/open-store.js';
import { ROLES, type Role } from '../../store/types.js';
import { Accounts } from '../accounts/accounts.js';

/**
 * `cloud-lite user create --role operator --email ops@example.com [--password-env VAR] [-c file]`:
 * creates an account directly in the hub's database (the demo seeds an operator this way).
 * The password comes from the environment variable named by --password-env (default
 * CLOUD_LITE_NEW_USER_PASSWORD), never from the command line. Returns the exit code.
 */
export function runUserCommand(argv: string[], io: CliIo): Promise<number> {
  return runCli('cloud-lite user', argv, io, (program, run) =>
    program
      .command('create')
      .description('create an account (renter, technician, operator, admin)')
      .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
      .option('--email <email>')
      .option('--phone <phone>')
      .option('--name <name>')
      .option(
        '--password-env <var>',
        'environment variable holding the password',
        'CLOUD_LITE_NEW_USER_PASSWORD',
      )
      .option('-c, --config <file>', 'hub configuration file')
      .action(
        async (o: {
          role: string;
          email?: string;
          phone?: string;
          name?: string;
          passwordEnv: string;
          config?: string;
        }) => {
          if (!ROLES.includes(o.role as Role))
            return run.usage(`--role must be one of ${ROLES.join(', ')}`);
          const password = io.env[o.passwordEnv];
          if (!password)
            return run.usage(`set the password in the environment variable ${o.passwordEnv}`);
          const env = Object.fromEntries(
            Object.entries(io.env).filter(([k]) => k !== o.passwordEnv),
          );
          const config = loadConfig({ file: o.config, env });
          const store = await openStore(config);
          try {
            const accounts = new Accounts({
              store,
              config: config.rental,
              now: () => new Date(),
              // Staff accounts are created at once: the CLI sends no account messages.
              mailer: { send: async () => {} },
            });
            const u = await accounts.createUser(
              { email: o.email, phone: o.phone, name: o.name, password, role: o.role as Role },
              { actor: 'system:cli' },
            );
            io.out(
              `${JSON.stringify({ id: u.id, email: u.email, phone: u.phone, role: u.role })}\n`,
            );
          } catch (err) {
            run.fail(err);
          } finally {
            await store.close();
          }
        },
      ),
  );
}
