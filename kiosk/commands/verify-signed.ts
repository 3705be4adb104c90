import { CallError, verifyCommand } from '../../protocol/index.js';
import type { CommandContext } from '../link/commands.js';
import type { CommandDeps } from './context.js';

/** A signed command may not claim an expiry further ahead than this (1 h). */
export const MAX_EXPIRY_AHEAD_MS = 60 * 60 * 1000;

export type SignedAction = 'Dispense' | 'PrepareDisk' | 'WipeDisk';

/**
 * Checks a signed command (Dispense, PrepareDisk, WipeDisk): signature, kiosk id, expiry
 * (not past, not more than MAX_EXPIRY_AHEAD_MS ahead) and nonce (never seen before; kept
 * until expiry). On failure it appends a `CommandRejected` event, logs, and throws
 * CallError SecurityError (the gate stores and sends it). Synchronous apart from the throw.
 */
export function verifySigned(
  deps: CommandDeps,
  action: SignedAction,
  payload: { commandId: string },
  ctx: CommandContext,
): void {
  const now = deps.clock.now();
  const res = verifyCommand(deps.hubPublicKeyPem, deps.kioskId, action, payload, { now });
  let reason: string | null = null;
  if (!res.ok) reason = res.reason;
  else if (Date.parse(res.expiresAt) - now.getTime() > MAX_EXPIRY_AHEAD_MS) {
    reason = `expiresAt ${res.expiresAt} is more than ${MAX_EXPIRY_AHEAD_MS / 60000} minutes ahead`;
  } else if (!deps.nonces.remember(res.nonce, res.expiresAt)) {
    reason = `nonce ${res.nonce} was already used (replayed command)`;
  }
  if (reason === null) return;
  ctx.log.warn({ reason }, 'signed command refused');
  deps.outbox.append('CommandRejected', {
    commandId: payload.commandId,
    action,
    code: 'SecurityError',
    reason,
  });
  throw new CallError('SecurityError', `${action} refused: ${reason}`, {
    commandId: payload.commandId,
  });
}
