import { accepted, type CommandDeps, type CommandHandler } from './context.js';

/** What TriggerMessage and Reset act on (the daemon provides it). */
export interface DaemonControl {
  /** Sends Boot, Heartbeat or Inventory to the hub now. */
  trigger(message: 'Boot' | 'Heartbeat' | 'Inventory'): Promise<void>;
  /** Soft reset: re-run reconciliation and send a fresh Inventory. */
  softReset(): Promise<void>;
  /** Hard reset: stop cleanly and exit with a code systemd restarts the service on. */
  hardReset(): void;
}

/** Delay between answering Reset Hard and stopping, so the CALLRESULT leaves first. */
const HARD_RESET_DELAY_MS = 200;

/** TriggerMessage: answered Accepted at once; the message is sent right after. */
export function triggerMessageHandler(
  _deps: CommandDeps,
  control: DaemonControl,
): CommandHandler<'TriggerMessage'> {
  return (p, ctx) => {
    setImmediate(() => {
      control.trigger(p.message).catch((err: Error) => {
        ctx.log.warn({ message: p.message, err: err.message }, 'TriggerMessage: send failed');
      });
    });
    return accepted();
  };
}

/** Reset: Soft re-reconciles; Hard exits (systemd restarts kioskd). Answered Accepted first. */
export function resetHandler(_deps: CommandDeps, control: DaemonControl): CommandHandler<'Reset'> {
  return (p, ctx) => {
    ctx.log.warn({ kind: p.kind }, 'reset requested by the hub');
    if (p.kind === 'Hard') setTimeout(() => control.hardReset(), HARD_RESET_DELAY_MS);
    else {
      setImmediate(() => {
        control.softReset().catch((err: Error) => {
          ctx.log.error({ err: err.message }, 'soft reset failed');
        });
      });
    }
    return accepted();
  };
}
