import { MaintenanceError } from '../../maintenance-wire.js';
import type { MaintenanceDeps } from '../deps.js';

/** What one request's handler gets besides its params. */
export interface MethodContext {
  deps: MaintenanceDeps;
  /** The technician (Unix user name the client reported). */
  user: string;
  /** Aborted when the client cancels or disconnects. */
  signal: AbortSignal;
  /** Streams a progress message to the client. */
  progress(p: Record<string, unknown>): void;
  /** Streams a line the client shows to the technician (interactive steps). */
  prompt(text: string): void;
}

export type Method = (params: Record<string, unknown>, ctx: MethodContext) => Promise<unknown>;

/** Reads an integer slot number param and checks it against the configured count. */
export function slotParam(params: Record<string, unknown>, deps: MaintenanceDeps): number {
  const n = Number(params.slot);
  const max = deps.config.slots.count;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new MaintenanceError(
      'EBADSLOT',
      `slot ${String(params.slot)} does not exist on this kiosk (slots 1..${max})`,
    );
  }
  return n;
}

/** Optional slot param: every slot when absent. */
export function slotsParam(params: Record<string, unknown>, deps: MaintenanceDeps): number[] {
  if (params.slot === undefined || params.slot === null)
    return Array.from({ length: deps.config.slots.count }, (_, i) => i + 1);
  return [slotParam(params, deps)];
}

/**
 * Records a technician action in the outbox (TechnicianAction), so the hub's audit log
 * shows who did what. Args are truncated to the event schema's limits.
 */
export function recordAction(
  ctx: Pick<MethodContext, 'deps' | 'user'>,
  action: string,
  args: Record<string, unknown>,
): void {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args).slice(0, 32)) {
    if (v !== undefined) clean[k.slice(0, 64)] = v;
  }
  ctx.deps.outbox.append('TechnicianAction', {
    actor: (ctx.user || 'unknown').slice(0, 64),
    action: action.slice(0, 64),
    args: clean,
  });
}

/** Message of an unknown thrown value, with its code when it has one. */
export function describe(err: unknown): { code: string; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code : 'EFAILED',
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
}
