/**
 * `cloud-lite migrate [-c file]`: brings the store's schema to this program's version and
 * exits (the hub also migrates when it starts; with several hub processes on PostgreSQL, run
 * this once before starting the upgraded ones). Prints one JSON line; exit 0 or 1.
 */
import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { HubError } from '../errors.js';
import { openStore } from './open-store.js';
import { describeUrl } from './postgres/postgres-store.js';

interface Io {
  env: NodeJS.ProcessEnv;
  out: (s: string) => void;
  err: (s: string) => void;
}

export async function runMigrateCommand(argv: string[], io: Io): Promise<number> {
  const program = new Command('cloud-lite migrate')
    .description(
      "bring the store's schema (SQLite file or PostgreSQL database) to this cloud-lite's version",
    )
    .option('-c, --config <file>', 'hub configuration file (as the hub runs with)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .action(async (o: { config?: string }) => {
      const config = loadConfig({ file: o.config, env: io.env });
      const store = await openStore(config);
      await store.close();
      const where =
        config.store.kind === 'postgres'
          ? describeUrl(config.store.url ?? '')
          : config.databasePath;
      io.out(
        `${JSON.stringify({ store: config.store.kind, at: where, fromVersion: store.migrated.from, toVersion: store.migrated.to })}\n`,
      );
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    const e = err as { exitCode?: number; code?: string; message: string };
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 1;
    io.err(`cloud-lite migrate: ${err instanceof HubError ? `${err.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}
