/** `kioskctl status` and `kioskctl slots`: from kioskd, or read-only from the database when it is down. */
import type { Command } from 'commander';
import type { FaultView, SlotView } from '../../maintenance-wire.js';
import type { CliContext } from '../context.js';
import { offlineSlots, offlineStatus } from '../offline.js';
import { ago, bytes, table } from '../render.js';
import { action } from './daemon.js';

/** Exit code of `status` when kioskd is not running (as `systemctl status` does). */
export const EXIT_DAEMON_DOWN = 3;

type Status = Omit<ReturnType<typeof offlineStatus>, 'board'> & {
  board: { connected: boolean; boardId: string | null; firmware: string | null } | null;
};

/** Asks kioskd; when it is down, says so and falls back to the read-only database. */
async function onlineOrOffline<T>(
  ctx: CliContext,
  method: string,
  offline: () => T,
): Promise<{ value: T; online: boolean }> {
  try {
    return { value: await ctx.call<T>(method), online: true };
  } catch (err) {
    if ((err as { code?: string }).code !== 'EDAEMONDOWN') throw err;
    ctx.err(`kioskctl: ${(err as Error).message}; showing the database read-only`);
    return { value: offline(), online: false };
  }
}

function renderStatus(s: Status): string {
  const q = s.queues;
  const lines = [
    `kiosk:     ${s.kioskId}`,
    `kioskd:    ${s.daemon}`,
    `software:  ${s.softwareVersion}`,
    `image:     ${s.imageVersion ?? '(not an SD image)'}`,
    `hub:       ${s.hub.url} ${s.hub.state}${s.hub.lastError ? ` (${s.hub.lastError})` : ''}`,
    `last sync: ${ago(s.hub.lastSync)}`,
    `clock:     offset ${s.clockOffsetMs} ms`,
    `queues:    outbox ${q.outbox}, inbox ${q.inbox}`,
    `data dir:  ${s.dataDir ? `${s.dataDir.path} ${bytes(s.dataDir.freeBytes)} free of ${bytes(s.dataDir.totalBytes)} (${s.dataDir.usedPercent}% used)` : 'unreadable'}`,
    `board:     ${s.board ? (s.board.connected ? `connected (${s.board.boardId}, firmware ${s.board.firmware})` : 'NOT CONNECTED') : 'unknown'}`,
    `slots:     ${Object.entries(s.slots)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}`,
  ];
  const faults = s.faults as FaultView[];
  if (faults.length === 0) lines.push('faults:    none');
  else {
    lines.push(`faults:    ${faults.length}`);
    for (const f of faults)
      lines.push(`  ${f.slot ? `slot ${f.slot} ` : ''}${f.code}: ${f.message}\n    -> ${f.hint}`);
  }
  return lines.join('\n');
}

export function renderSlots(slots: SlotView[]): string {
  return table(
    ['SLOT', 'STATE', 'DISK', 'CONTENT', 'WP', 'LAST EVENT', 'FAULT'],
    slots.map((s) => [
      s.slot,
      s.state,
      s.diskId,
      s.content,
      s.writeProtect ? 'on' : 'off',
      s.lastEvent ? `${s.lastEvent.type} ${ago(s.lastEvent.at)}` : '-',
      s.fault ? `${s.fault.code} ${s.fault.message}` : s.diskError ? `disk: ${s.diskError}` : '',
    ]),
  );
}

export function addStatusCommands(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description(
      'identity, versions, hub link, clock, queues, disk space and faults (exit 3 if kioskd is down)',
    )
    .action(
      action(ctx, async () => {
        const { value, online } = await onlineOrOffline<Status>(ctx, 'status', () =>
          offlineStatus(ctx.config()),
        );
        ctx.print(value, () => renderStatus(value));
        if (!online) ctx.exitCode = EXIT_DAEMON_DOWN;
      }),
    );
  program
    .command('slots')
    .description('every slot: state, disk, content, write protection, last event, fault')
    .action(
      action(ctx, async () => {
        const { value } = await onlineOrOffline<{ slots: SlotView[] }>(ctx, 'slots', () =>
          offlineSlots(ctx.config()),
        );
        ctx.print(value, () => renderSlots(value.slots));
      }),
    );
}
