import type { SlotStatus } from '../../hal/motor-board/index.js';
import type { CommandDeps } from '../handlers/context.js';
import type { ReturnWatcher } from '../returns/return-watcher.js';
import { holdsDisk, recordDiskRemoval } from '../slots/disk-watch.js';
import { reconcileDispense } from './dispense.js';

/** Commands whose interruption this module settles (Dispense has reconcile/dispense.ts; PrepareDisk and WipeDisk their handlers' recover()). */
const OWN_SHORT_COMMANDS = new Set([
  'SetWriteProtect',
  'DisableSlot',
  'EnableSlot',
  'CancelReservation',
  'TriggerMessage',
  'Reset',
]);

export interface ReconcileReport {
  /** commandId -> what was decided. */
  commands: Record<string, string>;
  /** slot -> what was changed. */
  slots: Record<number, string>;
}

/**
 * Start-up reconciliation (also Reset Soft): settles every unfinished inbox command kioskd
 * owns, then compares each slot's record with the board's sensors: a disk missing from a
 * slot that should hold one (any state but dispensing/preparing, see recordDiskRemoval) ->
 * DiskRemoved, the slot loses its disk (to `fault` EDISKMISSING unless a technician has the
 * door open); a disk in an `empty` slot -> treated as a return. Never moves a motor forward; the only motion is a retract of a disk left
 * at the pickup position by an interrupted dispense.
 */
export async function reconcile(
  deps: CommandDeps,
  returns: Pick<ReturnWatcher, 'identify'>,
  opts: { isRunning?: (commandId: string) => boolean } = {},
): Promise<ReconcileReport> {
  const log = deps.log.child({ component: 'reconcile' });
  const report: ReconcileReport = { commands: {}, slots: {} };
  for (const entry of deps.inbox.unfinished()) {
    if (opts.isRunning?.(entry.commandId)) continue; // Reset Soft during a live dispense
    if (entry.action === 'Dispense') {
      report.commands[entry.commandId] = await reconcileDispense(deps, entry, log);
    } else if (OWN_SHORT_COMMANDS.has(entry.action)) {
      // Short commands interrupted before their answer: the hub's re-send is answered
      // "interrupted"; it decides again from the next Inventory.
      deps.inbox.complete(entry.commandId, undefined, { failed: true });
      report.commands[entry.commandId] = 'abandoned';
    }
  }
  let sensors: SlotStatus[];
  try {
    sensors = await deps.hardware.board.status();
  } catch (err) {
    log.error({ err: (err as Error).message }, 'slot board unreadable: slots not reconciled');
    return report;
  }
  let door: boolean | undefined;
  for (const st of sensors) {
    let rec: ReturnType<typeof deps.slots.get>;
    try {
      rec = deps.slots.get(st.slot);
    } catch {
      continue; // the board has more slots than configured
    }
    if (rec.state === 'dispensing') continue; // a live dispense owns it
    if (holdsDisk(rec) && !st.present) {
      door ??= await deps.hardware.gpio
        .readInputs()
        .then((i) => i.door === 'open')
        .catch(() => false);
      // The slot's disk id is cleared with it: reported once, not again at the next start.
      const was = recordDiskRemoval(deps, {
        slot: st.slot,
        how: 'its sensor saw no disk at start-up',
        serviceDoorOpen: door,
        faultCode: 'EDISKMISSING',
      });
      if (was)
        report.slots[st.slot] = `disk missing (was ${was}): ${deps.slots.get(st.slot).state}`;
    } else if (rec.state === 'empty' && st.present) {
      await returns.identify(st.slot);
      report.slots[st.slot] = `found a disk: ${deps.slots.get(st.slot).state}`;
    }
  }
  log.info(report, 'reconciliation done');
  return report;
}
