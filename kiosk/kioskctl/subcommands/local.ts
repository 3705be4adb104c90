/** kioskctl commands that work without kioskd: enrol, logs, qr. */
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync, statSync, watch } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { logSource, tailLines } from '../../diag/bundle.js';
import { MaintenanceError } from '../../maintenance-wire.js';
import type { CliContext } from '../context.js';
import { enrolKiosk, hubHttpBase } from '../enrol.js';
import { action } from './daemon.js';
import { recordTechnicianAction } from './local-audit.js';

/** The renter URL printed on the kiosk: `<hub public url>/k/<kioskId>`. */
export function renterUrl(hubUrl: string, kioskId: string): string {
  return `${hubHttpBase(hubUrl)}/k/${encodeURIComponent(kioskId)}`;
}

export function addLocalCommands(program: Command, ctx: CliContext): void {
  program
    .command('enrol')
    .argument('[TOKEN]', 'one-time enrolment token from the hub operator')
    .requiredOption('--hub <URL>', 'hub URL (https://hub.example or its wss:// kiosk URL)')
    .option('--token-file <file>', 'read the token from a file instead of the command line')
    .description(
      'enrol this kiosk with its hub: writes the kiosk secret and the hub key (0600); works without kioskd',
    )
    .action(
      action(ctx, async (token: string | undefined, o: { hub: string; tokenFile?: string }) => {
        const tok = o.tokenFile ? readFileSync(o.tokenFile, 'utf8').trim() : token;
        if (!tok) throw new MaintenanceError('EUSAGE', 'enrol needs a TOKEN or --token-file');
        const r = await enrolKiosk({
          config: ctx.config(),
          configDir: path.dirname(path.resolve(ctx.configFile)),
          hubUrl: o.hub,
          token: tok,
        });
        await recordTechnicianAction(ctx, 'enrol', { hub: hubHttpBase(o.hub) });
        ctx.print(
          r,
          () =>
            `kiosk ${r.kioskId} enrolled; secret in ${r.secretFile}, hub key in ${r.publicKeyFile}. Restart kioskd: systemctl restart kioskd`,
        );
      }),
    );

  program
    .command('logs')
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'how many recent lines', '200')
    .description("kioskd's log: journalctl -u kioskd when available, else <dataDir>/kioskd.log")
    .action(
      action(ctx, async (o: { follow?: boolean; lines: string }) => {
        const n = Math.max(1, Number(o.lines) || 200);
        const src = logSource(ctx.config().dataDir);
        if (!src)
          throw new MaintenanceError(
            'ENOLOGS',
            `no journal and no ${path.join(ctx.config().dataDir, 'kioskd.log')}`,
          );
        if (src.kind === 'journal') {
          const args = ['-u', 'kioskd', '-n', String(n), '--no-pager', ...(o.follow ? ['-f'] : [])];
          const child = spawn('journalctl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
          child.stdout.pipe(ctx.io.stdout, { end: false });
          const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
          if (code !== 0) ctx.exitCode = code;
          return;
        }
        ctx.out(tailLines(src.file, n).join('\n'));
        if (!o.follow) return;
        let pos = statSync(src.file).size;
        await new Promise<void>((resolve) => {
          const w = watch(src.file, () => {
            const size = statSync(src.file).size;
            if (size < pos) pos = 0;
            if (size > pos) {
              createReadStream(src.file, { start: pos, end: size - 1 }).pipe(ctx.io.stdout, {
                end: false,
              });
              pos = size;
            }
          });
          process.once('SIGINT', () => {
            w.close();
            resolve();
          });
        });
      }),
    );

  program
    .command('qr')
    .option('--png <file>', 'also write the QR code as a PNG image')
    .description("the kiosk's renter URL (<hub>/k/<kioskId>) as a QR code in the terminal")
    .action(
      action(ctx, async (o: { png?: string }) => {
        const QRCode = (await import('qrcode')).default;
        const cfg = ctx.config();
        const url = renterUrl(cfg.hub.url, cfg.kioskId);
        if (o.png) await QRCode.toFile(o.png, url, { type: 'png', width: 512, margin: 2 });
        const text = await QRCode.toString(url, {
          type: ctx.io.isTTY ? 'terminal' : 'utf8',
          small: true,
        });
        ctx.print(
          { url, ...(o.png ? { png: path.resolve(o.png) } : {}) },
          () => `${text}\n${url}${o.png ? `\nPNG: ${o.png}` : ''}`,
        );
      }),
    );
}
