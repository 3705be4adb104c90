/**
 * `cloud-lite backup --to DIR [--keep N] [-c file]`: an online, consistent copy of the hub's
 * database (and its signing key) while the hub runs; keeps the newest N backups.
 * `cloud-lite restore BACKUP_DIR [-c file]`: puts a backup in place of a STOPPED hub's
 * database and key (refuses while the hub runs). Both print one JSON line; exit 0 or 1.
 * deploy/ runs the backup daily (cloud-lite-backup.timer). See store/sqlite/backup.ts.
 */
import { Command, InvalidArgumentError } from 'commander';
import { type HubConfig, loadConfig as load } from '../config.js';
import { HubError } from '../errors.js';
import { hubVersion } from '../package-info.js';
import { backupHub, restoreHub } from './sqlite/backup.js';

interface Io {
  env: NodeJS.ProcessEnv;
  out: (s: string) => void;
  err: (s: string) => void;
}

/** The configuration, refused when the store is PostgreSQL (backed up with pg_dump instead). */
function loadSqliteConfig(
  name: string,
  file: string | undefined,
  env: NodeJS.ProcessEnv,
): HubConfig {
  const config = load({ file, env });
  if (config.store.kind !== 'sqlite')
    throw new HubError(
      'ESTOREKIND',
      `cloud-lite ${name} copies the SQLite database; this hub's store is PostgreSQL: back it up with pg_dump (docs/postgres.md)`,
    );
  return config;
}

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number >= 1');
  return n;
};

async function run(name: string, io: Io, argv: string[], program: Command): Promise<number> {
  program.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    const e = err as { exitCode?: number; code?: string; message: string };
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 1;
    io.err(`cloud-lite ${name}: ${err instanceof HubError ? `${err.code}: ` : ''}${e.message}\n`);
    return 1;
  }
}

export function runBackupCommand(argv: string[], io: Io): Promise<number> {
  const program = new Command('cloud-lite backup')
    .description(
      'copy the hub database (consistent, online: the hub keeps running) and its signing key into a new directory under --to',
    )
    .requiredOption('--to <dir>', 'directory that holds the backups (e.g. /var/backups/cloud-lite)')
    .option('--keep <n>', 'backups kept, the newest (older ones are removed)', positive, 14)
    .option('-c, --config <file>', 'hub configuration file (as the hub runs with)')
    .action(async (o: { to: string; keep: number; config?: string }) => {
      const config = loadSqliteConfig('backup', o.config, io.env);
      const r = await backupHub({
        databasePath: config.databasePath,
        signingKeyPath: config.signingKeyPath,
        to: o.to,
        keep: o.keep,
        hubVersion: hubVersion(),
      });
      io.out(
        `${JSON.stringify({ backup: r.dir, bytes: r.manifest.database.bytes, sha256: r.manifest.database.sha256, schemaVersion: r.manifest.schemaVersion, removed: r.removed, tookMs: r.tookMs })}\n`,
      );
    });
  return run('backup', io, argv, program);
}

export function runRestoreCommand(argv: string[], io: Io): Promise<number> {
  const program = new Command('cloud-lite restore')
    .description(
      "put a backup in place of the hub's database and signing key; the hub must be stopped (the files replaced are kept as *.before-restore-<time>)",
    )
    .argument('<backup>', 'a backup directory made by cloud-lite backup')
    .option('-c, --config <file>', 'hub configuration file (as the hub runs with)')
    .action(async (from: string, o: { config?: string }) => {
      const config = loadSqliteConfig('restore', o.config, io.env);
      const r = restoreHub({
        from,
        databasePath: config.databasePath,
        signingKeyPath: config.signingKeyPath,
      });
      io.out(
        `${JSON.stringify({ restored: r.databasePath, from, createdAt: r.manifest.createdAt, kept: r.kept })}\n`,
      );
    });
  return run('restore', io, argv, program);
}
