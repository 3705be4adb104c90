/**
 * `cloud-lite check [-c file] [--json]`: runs the live invariants (invariants.ts) over the
 * hub's store once and prints each violation; exit 0 when there is none, 2 when there are,
 * 1 when the check could not run. It only reads (the running hub's job raises the alerts).
 */
import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { HubError } from '../errors.js';
import { openStore } from '../store/open-store.js';
import { runInvariants } from './invariant-job.js';
import { INVARIANTS } from './invariants.js';

interface Io {
  env: NodeJS.ProcessEnv;
  out: (s: string) => void;
  err: (s: string) => void;
}

export async function runCheckCommand(argv: string[], io: Io): Promise<number> {
  let code = 0;
  const program = new Command('cloud-lite check')
    .description(
      `check the hub's records against the invariants (${INVARIANTS.join(', ')}); exit 2 on violations`,
    )
    .option('-c, --config <file>', 'hub configuration file (as the hub runs with)')
    .option('--json', 'one JSON line per violation')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .action(async (o: { config?: string; json?: boolean }) => {
      const config = loadConfig({ file: o.config, env: io.env });
      const store = await openStore(config);
      try {
        const violations = await runInvariants(store, {
          now: new Date(),
          authorisationMaxAgeHours: config.alerts.authorisationMaxAgeHours,
        });
        for (const v of violations)
          io.out(
            o.json
              ? `${JSON.stringify(v)}\n`
              : `${v.invariant}: ${v.message} (${Object.entries(v.ids)
                  .map(([k, x]) => `${k}=${x}`)
                  .join(' ')})\n`,
          );
        if (!o.json) io.out(`${violations.length} violations\n`);
        code = violations.length > 0 ? 2 : 0;
      } finally {
        await store.close();
      }
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    const e = err as { exitCode?: number; code?: string; message: string };
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 1;
    io.err(`cloud-lite check: ${err instanceof HubError ? `${err.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}
