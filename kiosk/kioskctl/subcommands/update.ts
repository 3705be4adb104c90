/**
 * `kioskctl update status` and `kioskctl update install FILE`: software updates through
 * kioskd (RAUC on the SD image's A/B slots; images/README.md "Updates").
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MaintenanceError } from '../../maintenance-wire.js';
import type { CliContext } from '../context.js';
import { ago, table } from '../render.js';
import { action, progressBar } from './daemon.js';

type Obj = Record<string, unknown>;

interface Rec {
  version: string;
  fromVersion: string;
  state: string;
  source: string;
  actor: string | null;
  code: string | null;
  reason: string | null;
  updatedAt: string;
}

interface View {
  imageVersion: string | null;
  active: Rec | null;
  history: Rec[];
  lock: { updating: string | null; held: string[] };
  rauc:
    | {
        booted: string;
        primary?: string;
        slots: Array<{
          name: string;
          bootname: string;
          bootStatus?: string;
          bundleVersion?: string;
        }>;
      }
    | { error: string };
}

function renderView(v: View): string {
  const out: string[] = [`image version: ${v.imageVersion ?? '(not an SD image)'}`];
  if ('error' in v.rauc) out.push(`slots: unknown (${v.rauc.error})`);
  else {
    const r = v.rauc;
    out.push(
      table(
        ['SLOT', 'RAUC', 'BOOT STATUS', 'INSTALLED', ''],
        r.slots
          .slice()
          .sort((a, b) => a.bootname.localeCompare(b.bootname))
          .map((s) => [
            s.bootname,
            s.name,
            s.bootStatus ?? '-',
            s.bundleVersion ?? '(from the image)',
            [s.bootname === r.booted ? 'booted' : '', s.bootname === r.primary ? 'next boot' : '']
              .filter(Boolean)
              .join(', '),
          ]),
      ).trimEnd(),
    );
  }
  const a = v.active;
  out.push(
    a
      ? `update: version ${a.version} (from ${a.fromVersion}) ${a.state}` +
          (v.lock.held.length && a.state === 'waiting' ? ` for: ${v.lock.held.join(', ')}` : '') +
          (a.reason ? ` (${a.code}: ${a.reason})` : '')
      : `update: none in progress${v.lock.held.length ? `; busy: ${v.lock.held.join(', ')}` : ''}`,
  );
  if (v.history.length) {
    out.push(
      `recent updates:\n${table(
        ['WHEN', 'VERSION', 'FROM', 'STATE', 'BY', 'REASON'],
        v.history.map((h) => [
          ago(h.updatedAt),
          h.version,
          h.fromVersion,
          h.state,
          h.source === 'hub' ? 'hub' : (h.actor ?? 'technician'),
          h.code ? `${h.code}: ${h.reason ?? ''}` : (h.reason ?? ''),
        ]),
      ).trimEnd()}`,
    );
  }
  return `${out.join('\n')}\n`;
}

export function addUpdateCommands(program: Command, ctx: CliContext): void {
  const update = program
    .command('update')
    .description('software updates of this kiosk (A/B slots with RAUC): status, install FILE');
  update
    .command('status')
    .description('slots, the version each holds, the update in progress and recent updates')
    .action(
      action(ctx, async () => {
        const v = await ctx.call<View>('update.status');
        ctx.print(v, () => renderView(v));
      }),
    );
  update
    .command('install')
    .argument('<FILE>', 'a signed update bundle (.raucb), e.g. on a mounted USB stick')
    .description(
      'install an update bundle: kioskd checks it with RAUC, waits until no dispense, preparation, ' +
        'wipe or technician job runs, installs it into the other slot and reboots into it',
    )
    .action(
      action(ctx, async (file: string) => {
        const bar = progressBar(ctx, 'update');
        let r: Obj;
        try {
          r = await ctx.call<Obj>(
            'update.install',
            { path: resolve(file) },
            { onProgress: bar.onProgress },
          );
        } finally {
          bar.stop();
        }
        if (r.state === 'failed') {
          throw new MaintenanceError(
            String(r.code ?? 'EFAILED'),
            `update to version ${r.version} failed: ${r.reason ?? 'unknown reason'}`,
          );
        }
        ctx.print(
          r,
          () =>
            `version ${r.version} installed; the kiosk reboots into it now and commits it once ` +
            `kioskd runs and reaches its hub (else it comes back on ${r.fromVersion}); ` +
            'check with kioskctl update status',
        );
      }),
    );
}
