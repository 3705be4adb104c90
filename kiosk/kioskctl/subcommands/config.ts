/** `kioskctl config show|set`: the kioskd configuration file (secrets redacted on show). */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { setSetting as setPath } from '../../../protocol/remote-config.js';
import { redactConfig } from '../../config/redact.js';
import { writeAtomic } from '../../config/write-atomic.js';
import { parseConfig } from '../../config.js';
import { MaintenanceError } from '../../maintenance-wire.js';
import type { CliContext } from '../context.js';
import { action } from './daemon.js';
import { recordTechnicianAction } from './local-audit.js';

/** A value as typed: JSON when it parses (numbers, true/false, objects), else the string. */
function parseValue(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export function addConfigCommands(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('show or change the kioskd configuration');
  config
    .command('show')
    .description('print the validated configuration, secrets redacted (works without kioskd)')
    .action(
      action(ctx, async () => {
        let cfg: unknown;
        try {
          cfg = redactConfig(ctx.config());
        } catch (err) {
          // The file may be unreadable for a technician (0640 root:kiosk): ask kioskd.
          cfg = (
            await ctx.call<{ config: unknown }>('config.show').catch(() => {
              throw err;
            })
          ).config;
        }
        ctx.print(cfg, () => JSON.stringify(cfg, null, 2));
      }),
    );
  config
    .command('set')
    .argument('<KEY>', 'dotted key, e.g. logLevel or dispense.pickupWindowSeconds')
    .argument('<VALUE>', 'new value (JSON when it parses, else a string)')
    .description(
      'validate against the schema, then write the file atomically (restart kioskd to apply)',
    )
    .action(
      action(ctx, async (key: string, raw: string) => {
        const file = ctx.configFile;
        let doc: Record<string, unknown>;
        try {
          doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        } catch (err) {
          throw new MaintenanceError('ECONFIG', `cannot read ${file}: ${(err as Error).message}`);
        }
        const value = parseValue(raw);
        setPath(doc, key, value);
        try {
          parseConfig(doc, { source: file, env: {} });
        } catch (err) {
          throw new MaintenanceError(
            'ECONFIG',
            `${(err as Error).message}; ${file} was not changed`,
          );
        }
        writeAtomic(file, `${JSON.stringify(doc, null, 2)}\n`);
        // On the SD image kioskd.json is rebuilt at boot; technician overrides persist here.
        const cfg = parseConfig(doc, { source: file, env: {} });
        const localDir = path.join(cfg.dataDir, 'config');
        if (existsSync(localDir)) {
          const local = path.join(localDir, 'kioskd.local.json');
          const over = existsSync(local)
            ? (JSON.parse(readFileSync(local, 'utf8')) as Record<string, unknown>)
            : {};
          setPath(over, key, value);
          mkdirSync(localDir, { recursive: true });
          writeAtomic(local, `${JSON.stringify(over, null, 2)}\n`);
        }
        const secret = /secret|key|token|password/i.test(key);
        await recordTechnicianAction(ctx, 'config.set', {
          key,
          value: secret ? '<redacted>' : value,
        });
        ctx.print(
          { key, file, restartNeeded: true },
          () => `${key} set in ${file}; restart kioskd to apply (systemctl restart kioskd)`,
        );
      }),
    );
}
