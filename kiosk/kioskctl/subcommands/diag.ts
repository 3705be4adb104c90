/** `kioskctl diag`: one tar.gz for support (no secrets): config, logs, database summary, versions. */
import path from 'node:path';
import type { Command } from 'commander';
import { writeDiagBundle } from '../../diag/bundle.js';
import type { CliContext } from '../context.js';
import { openReadOnly } from '../offline.js';
import { action } from './daemon.js';

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
        const out = path.resolve(o.output);
        await writeDiagBundle(out, {
          config: cfg,
          db: () => ({ db: openReadOnly(cfg), close: true }),
          call: (m) => ctx.call(m),
          secrets: cfg.hub.secret ? [cfg.hub.secret] : [],
          builtBy: 'kioskctl',
        });
        ctx.print({ archive: out }, () => `diagnostics written to ${out}`);
      }),
    );
}
