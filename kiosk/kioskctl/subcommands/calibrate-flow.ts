/** The interactive calibration walk: one slot after the other, the technician inserting a disk in each. */

import { MaintenanceError } from '../../maintenance-wire.js';
import type { CliContext } from '../context.js';
import { askLine } from '../io.js';

/** Parses "1-4", "2,5", "1-3,7" into slot numbers. */
export function parseSlotList(spec: string, max: number): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new MaintenanceError('EUSAGE', `bad slot list "${spec}" (use e.g. 1-4 or 2,5)`);
    const a = Number(m[1]);
    const b = Number(m[2] ?? m[1]);
    for (let s = a; s <= b; s++) {
      if (s < 1 || s > max) throw new MaintenanceError('EUSAGE', `slot ${s} is outside 1..${max}`);
      out.push(s);
    }
  }
  return out;
}

export async function calibrateFlow(
  ctx: CliContext,
  o: { slots?: string; timeout: string },
): Promise<void> {
  const status = await ctx.call<{ slots: Record<string, number> }>('status');
  const count = Object.values(status.slots).reduce((a, b) => a + b, 0);
  const slots = o.slots
    ? parseSlotList(o.slots, count)
    : Array.from({ length: count }, (_, i) => i + 1);
  const results: Array<{ slot: number; portPaths?: string[]; skipped?: boolean; error?: string }> =
    [];
  ctx.err(
    `Calibrating ${slots.length} slot(s). Insert one disk at a time; s = skip a slot, q = quit.`,
  );
  await ctx.withDaemon(async (client) => {
    for (const slot of slots) {
      const abort = new AbortController();
      let ready!: () => void;
      const waiting = new Promise<void>((r) => {
        ready = r;
      });
      const call = client.call<{ portPaths: string[]; device: string }>(
        'calibrate',
        { slot, timeoutSeconds: Number(o.timeout) },
        { signal: abort.signal, onProgress: () => ready() },
      );
      call.catch(() => {});
      await Promise.race([
        waiting,
        call.then(
          () => {},
          () => {},
        ),
      ]);
      const answer = await askLine(ctx.io, `Insert a disk into slot ${slot}, press Enter: `);
      const a = answer?.trim().toLowerCase();
      if (answer === null || a === 'q' || a === 's') {
        abort.abort();
        results.push({ slot, skipped: true });
        if (answer === null || a === 'q') break;
        continue;
      }
      try {
        const r = await call;
        results.push({ slot, portPaths: r.portPaths });
        ctx.err(
          `slot ${slot}: mapped to ${r.portPaths.join(', ')} (${r.device}). Remove the disk.`,
        );
      } catch (err) {
        const msg = (err as Error).message;
        results.push({ slot, error: msg });
        ctx.err(`slot ${slot}: ${msg}`);
      }
    }
  });
  const failed = results.filter((r) => r.error).length;
  ctx.print(
    { results },
    () =>
      `calibration: ${results.filter((r) => r.portPaths).length} mapped, ${failed} failed, ${results.filter((r) => r.skipped).length} skipped`,
  );
  if (failed) ctx.exitCode = 1;
}
