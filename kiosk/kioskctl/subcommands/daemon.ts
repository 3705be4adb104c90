/** kioskctl commands answered by the running kioskd (through the maintenance socket). */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { MaintenanceError, type TestRow } from '../../maintenance-wire.js';
import type { CliContext } from '../context.js';
import { confirm } from '../io.js';
import { bytes, table } from '../render.js';

type Obj = Record<string, unknown>;

function slotNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new MaintenanceError('EUSAGE', `slot must be a number >= 1, got "${v}"`);
  return n;
}

/** Runs `fn`, reporting failures on the context (exit code, message). */
export function action<A extends unknown[]>(ctx: CliContext, fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      ctx.fail(err);
    }
  };
}

/** A progress bar on stderr fed by the daemon's progress messages (bytes when known). */
export function progressBar(ctx: CliContext, title: string) {
  let bar: cliProgress.SingleBar | null = null;
  let lastStep = '';
  const onProgress = (p: Obj) => {
    const step = String(p.step ?? '');
    const total = Number(p.bytesTotal ?? p.filesTotal ?? 0);
    const done = Number(p.bytesDone ?? p.filesDone ?? 0);
    if (ctx.json) return;
    if (!ctx.io.isTTY) {
      if (step !== lastStep) ctx.err(`${title}: ${step}`);
      lastStep = step;
      return;
    }
    if (!bar) {
      bar = new cliProgress.SingleBar(
        {
          stream: ctx.io.stderr as NodeJS.WriteStream,
          format: `${title} {step} [{bar}] {percentage}% | {value}/{total}`,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total || 1, done, { step });
    }
    if (total) bar.setTotal(total);
    bar.update(done, { step });
  };
  return {
    onProgress,
    stop: () => {
      (bar as cliProgress.SingleBar | null)?.stop();
    },
  };
}

async function job(ctx: CliContext, title: string, method: string, params: Obj): Promise<void> {
  const bar = progressBar(ctx, title);
  try {
    const r = await ctx.call<Obj>(method, params, { onProgress: bar.onProgress });
    bar.stop();
    ctx.print(r, () => `${title}: done\n${JSON.stringify(r, null, 2)}`);
  } catch (err) {
    bar.stop();
    throw err;
  }
}

function renderRows(r: { test: string; passed: boolean; rows: TestRow[] }): string {
  return (
    table(
      ['SLOT', 'TEST', 'RESULT', 'DETAIL'],
      r.rows.map((x) => [x.slot ?? '-', x.test, x.result.toUpperCase(), x.detail]),
    ) + `\n${r.test}: ${r.passed ? 'PASS' : 'FAIL'}`
  );
}

export function addDaemonCommands(program: Command, ctx: CliContext): void {
  const slot = program
    .command('slot')
    .description('act on one slot: eject, retract, disable, enable');
  slot
    .command('eject')
    .argument('<N>', 'slot number')
    .option('-y, --yes', 'do not ask for confirmation')
    .description(
      'push the disk in slot N out (a real motor eject); records it as removed by the technician',
    )
    .action(
      action(ctx, async (n: string, o: { yes?: boolean }) => {
        const s = slotNumber(n);
        if (!o.yes && !(await confirm(ctx.io, `Eject the disk in slot ${s}?`))) {
          throw new MaintenanceError(
            'EABORTED',
            `eject of slot ${s} not confirmed; nothing was done`,
          );
        }
        const r = await ctx.call<Obj>('slot.eject', { slot: s });
        ctx.print(
          r,
          () =>
            `slot ${s}: disk ${r.diskId ?? '(unknown)'} ejected; take it out. Slot is now ${r.state}.`,
        );
      }),
    );
  for (const [name, desc] of [
    ['retract', 'pull a disk back in; self-tests a latched motor first and clears a motor fault'],
    [
      'enable',
      "put a disabled or faulted slot back into service (state from the sensors; a disabled slot's prepared disk that checks out comes back ready)",
    ],
  ] as const) {
    slot
      .command(name)
      .argument('<N>', 'slot number')
      .description(desc)
      .action(
        action(ctx, async (n: string) => {
          const s = slotNumber(n);
          const r = await ctx.call<Obj>(`slot.${name}`, { slot: s });
          ctx.print(r, () => `slot ${s}: ${name} done; slot is now ${r.state}`);
        }),
      );
  }
  slot
    .command('disable')
    .argument('<N>', 'slot number')
    .option('--reason <text>', 'why (goes into the event log)')
    .description('take slot N out of service')
    .action(
      action(ctx, async (n: string, o: { reason?: string }) => {
        const s = slotNumber(n);
        const r = await ctx.call<Obj>('slot.disable', {
          slot: s,
          ...(o.reason ? { reason: o.reason } : {}),
        });
        ctx.print(r, () => `slot ${s}: disabled${r.changed ? '' : ' (already was)'}`);
      }),
    );

  const test = program
    .command('test')
    .description('function check of motors, relays or sensors, with a pass/fail table');
  for (const kind of ['motors', 'relays', 'sensors'] as const) {
    test
      .command(kind)
      .argument('[N]', 'only this slot')
      .description(
        {
          motors: 'self-test each slot motor (short stroke, never pushes a disk out)',
          relays: 'toggle each write-protect relay and read it back',
          sensors: 'compare slot sensors with the recorded states; door and tamper inputs',
        }[kind],
      )
      .action(
        action(ctx, async (n?: string) => {
          const r = await ctx.call<{ test: string; passed: boolean; rows: TestRow[] }>(
            `test.${kind}`,
            n === undefined ? {} : { slot: slotNumber(n) },
          );
          ctx.print(r, () => renderRows(r));
          if (!r.passed) ctx.exitCode = 1;
        }),
      );
  }

  program
    .command('disks')
    .description('what the drive scan sees, mapped to slots')
    .action(
      action(ctx, async () => {
        const r = await ctx.call<{
          disks: Obj[];
          calibrated: Array<{ slot: number; portPaths: string[] }>;
        }>('disks');
        ctx.print(
          r,
          () =>
            table(
              ['DEVICE', 'SLOT', 'SERIAL', 'SIZE', 'RO', 'ERROR'],
              r.disks.map((d) => [
                String(d.device),
                d.slot as number | null,
                d.serial as string | null,
                bytes(d.sizeBytes as number),
                d.readOnly ? 'yes' : 'no',
                (d.error as string | null) ?? '',
              ]),
            ) + `\n${r.calibrated.length} slot(s) calibrated`,
        );
      }),
    );

  program
    .command('calibrate')
    .description(
      'walk slot by slot to map USB ports to slots ("insert a disk into slot N, press Enter")',
    )
    .option('--slots <list>', 'slots to calibrate, e.g. 1-4 or 2,5 (default: all)')
    .option('--timeout <seconds>', 'how long to wait for each disk', '120')
    .action(
      action(ctx, async (o: { slots?: string; timeout: string }) => {
        const { calibrateFlow } = await import('./calibrate-flow.js');
        await calibrateFlow(ctx, o);
      }),
    );

  for (const [name, desc] of [
    ['clone', 'prepare the disk in slot N with content (format, copy, verify)'],
    ['verify', 're-read the disk in slot N and check it against its manifest'],
    ['wipe', 'wipe the disk in slot N'],
  ] as const) {
    const c = program.command(name).argument('<N>', 'slot number').description(desc);
    if (name === 'clone') c.requiredOption('--content <id[@version]>', 'content package');
    if (name === 'wipe') c.option('--full', 'overwrite every block (slow) instead of a quick wipe');
    c.action(
      action(ctx, async (n: string, o: { content?: string; full?: boolean }) => {
        const s = slotNumber(n);
        const params: Obj = { slot: s };
        if (o.content) {
          const [contentId, version] = o.content.split('@');
          params.contentId = contentId;
          if (version) params.version = version;
        }
        if (name === 'wipe') params.mode = o.full ? 'full' : 'quick';
        await job(ctx, `${name} slot ${s}`, name, params);
      }),
    );
  }

  const cache = program.command('cache').description('the content cache: ls, import PATH, prune');
  cache
    .command('ls')
    .description('list cached content packages')
    .action(
      action(ctx, async () => {
        const r = await ctx.call<{ content: Obj[] }>('cache.ls');
        ctx.print(r, () =>
          table(
            ['CONTENT', 'VERSION', 'SIZE', 'COMPLETE', 'PINS'],
            r.content.map((c) => [
              String(c.contentId),
              String(c.version),
              bytes(c.totalBytes as number),
              c.complete ? 'yes' : 'no',
              ((c.pins as string[]) ?? []).join(',') || '-',
            ]),
          ),
        );
      }),
    );
  cache
    .command('import')
    .argument('<PATH>', 'package directory (manifest.json + files/), e.g. a mounted USB stick')
    .description('import a content package from a directory')
    .action(
      action(ctx, async (p: string) => {
        const { resolve } = await import('node:path');
        await job(ctx, 'import', 'cache.import', { path: resolve(p) });
      }),
    );
  cache
    .command('prune')
    .description('evict every unpinned package')
    .action(
      action(ctx, async () => {
        const r = await ctx.call<{ removed: Obj[]; freedBytes: number }>('cache.prune');
        ctx.print(r, () => `removed ${r.removed.length} package(s), freed ${bytes(r.freedBytes)}`);
      }),
    );

  program
    .command('sync')
    .description('send queued events to the hub now and wait until the outbox is empty')
    .option('--timeout <seconds>', 'give up after', '30')
    .action(
      action(ctx, async (o: { timeout: string }) => {
        const r = await ctx.call<Obj>(
          'sync',
          { timeoutSeconds: Number(o.timeout) },
          { onProgress: (p) => !ctx.json && ctx.err(`outbox: ${p.outbox} event(s)`) },
        );
        ctx.print(r, () => 'outbox empty: the hub has every event');
      }),
    );
}
