import type { CommandDispatcher } from './command-dispatcher.js';
import type { EventIntake } from './event-intake.js';

/**
 * The events that report a long-running command's outcome settle that command in the
 * transaction that records them, before any domain handler runs: DispenseCompleted (`taken`:
 * completed, else failed), PrepareCompleted, PrepareFailed, WipeCompleted, WipeFailed, DiagnosticsFailed. Only a command of the kiosk that
 * sent the event; an outcome for a command that had already ended leaves it as it was
 * (CommandDispatcher.finish). Commands settled this way are not announced as `'ended'`: the
 * domain acts on the event itself.
 */
export function settleCommandsOnOutcomes(intake: EventIntake, commands: CommandDispatcher): void {
  intake.onEvent('DispenseCompleted', async (ev, tx) => {
    const d = ev.data;
    await commands.finish(tx, d.commandId, d.outcome === 'taken' ? 'completed' : 'failed', {
      kioskId: ev.kioskId,
      result: { outcome: d.outcome, diskId: d.diskId, ...(d.reason ? { reason: d.reason } : {}) },
    });
  });
  intake.onEvent('PrepareCompleted', async (ev, tx) => {
    const d = ev.data;
    await commands.finish(tx, d.commandId, 'completed', {
      kioskId: ev.kioskId,
      result: { diskId: d.diskId, slot: d.slot },
    });
  });
  intake.onEvent('PrepareFailed', async (ev, tx) => {
    const d = ev.data;
    await commands.finish(tx, d.commandId, 'failed', {
      kioskId: ev.kioskId,
      result: { code: d.code, reason: d.reason },
    });
  });
  // A WipeDisk is answered Accepted at once; its outcome arrives as an event that names it.
  intake.onEvent('WipeCompleted', async (ev, tx) => {
    const { commandId, ...result } = ev.data;
    if (commandId)
      await commands.finish(tx, commandId, 'completed', { kioskId: ev.kioskId, result });
  });
  intake.onEvent('WipeFailed', async (ev, tx) => {
    const { commandId, ...result } = ev.data;
    if (commandId) await commands.finish(tx, commandId, 'failed', { kioskId: ev.kioskId, result });
  });
  // UploadDiagnostics succeeds by its HTTP upload (registry/diagnostics.ts); this is its failure.
  intake.onEvent('DiagnosticsFailed', async (ev, tx) => {
    const { commandId, ...result } = ev.data;
    await commands.finish(tx, commandId, 'failed', { kioskId: ev.kioskId, result });
  });
}
