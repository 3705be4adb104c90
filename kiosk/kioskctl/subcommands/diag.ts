/** `kioskctl diag`: one tar.gz for support (no secrets): config, logs, database summary, versions. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { execa } from 'execa';
import { redactConfig } from '../../config/redact.js';
import type { KioskDb } from '../../db/open-db.js';
import { imageVersion, packageVersion } from '../../version.js';
import type { CliContext } from '../context.js';
import { openReadOnly } from '../offline.js';
import { action } from './daemon.js';
import { logSource, tailLines } from './local.js';

/** Row counts per table, user_version and integrity_check of the kiosk database. */
export function dbSummary(db: KioskDb) {
  const tables = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all() as Array<{ name: string }>;
  const counts: Record<string, number> = {};
  for (const { name } of tables)
    counts[name] = (
      db.prepare(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }
    ).n;
  return {
    userVersion: db.pragma('user_version', { simple: true }) as number,
    integrityCheck: (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map(
      (r) => r.integrity_check,
    ),
    counts,
  };
}

function recentLogs(dataDir: string): string {
  const src = logSource(dataDir);
  if (!src) return '(no journal and no kioskd.log)\n';
  if (src.kind === 'file') return `${tailLines(src.file, 2000).join('\n')}\n`;
  const r = spawnSync('journalctl', ['-u', 'kioskd', '-n', '2000', '--no-pager'], {
    encoding: 'utf8',
  });
  return r.stdout || r.stderr || '(journalctl printed nothing)\n';
}

export function addDiagCommand(program: Command, ctx: CliContext): void {
  program
    .command('diag')
    .option(
      '-o, --output <file>',
      'archive to write',
      `kioskctl-diag-${new Date().toISOString().slice(0, 19).replaceAll(':', '')}.tar.gz`,
    )
    .description(
      'write one tar.gz for support: config without secrets, recent logs, database summary, versions',
    )
    .action(
      action(ctx, async (o: { output: string }) => {
        const cfg = ctx.config();
        const dir = mkdtempSync(path.join(os.tmpdir(), 'kioskctl-diag-'));
        const root = path.join(dir, 'kioskctl-diag');
        try {
          const put = (name: string, v: unknown) =>
            writeFileSync(
              path.join(root, name),
              typeof v === 'string' ? v : `${JSON.stringify(v, null, 2)}\n`,
            );
          await import('node:fs/promises').then((f) => f.mkdir(root));
          put('config.json', redactConfig(cfg));
          put('versions.json', {
            kioskctl: packageVersion(),
            image: imageVersion(),
            node: process.version,
            os: `${os.type()} ${os.release()} ${os.arch()}`,
            at: new Date().toISOString(),
          });
          try {
            const db = openReadOnly(cfg);
            try {
              put('database.json', dbSummary(db));
            } finally {
              db.close();
            }
          } catch (err) {
            put('database.json', { error: (err as Error).message });
          }
          put('kioskd.log', recentLogs(cfg.dataDir));
          for (const m of ['status', 'slots', 'disks']) {
            try {
              put(`${m}.json`, await ctx.call(m));
            } catch (err) {
              put(`${m}.json`, { error: (err as Error).message });
            }
          }
          const out = path.resolve(o.output);
          await execa('tar', ['-czf', out, '-C', dir, 'kioskctl-diag']);
          ctx.print({ archive: out }, () => `diagnostics written to ${out}`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
    );
}
