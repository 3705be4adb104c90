import { CallError, DEFAULT_MAX_SKEW_MS, verifyCommand } from '../../protocol/index.js';
import type { CommandContext } from '../link/command-gate.js';
import type { CommandDeps } from './context.js';

/** A signed command may not claim an expiry further ahead than this (1 h). */
export const MAX_EXPIRY_AHEAD_MS = 60 * 60 * 1000;

export type SignedAction =
  | 'Dispense'
  | 'PrepareDisk'
  | 'WipeDisk'
  | 'InstallUpdate'
  | 'ArmPickupCode'
  | 'UploadDiagnostics'
  | 'ApplyConfig';

/**
 * Per action: PrepareDisk's deadline is the reservation's prepare deadline, which the hub
 * sets hours ahead (cloud-lite `rental.prepareDeadlineSeconds`, up to 2 h, and it is re-sent
 * unchanged after a reconnect), so it may reach 48 h ahead; its nonce is kept that long.
 * InstallUpdate's expiry is the hub's command deadline for it (1 h by default, at most 24 h).
 * ArmPickupCode's expiry is the end of the reservation's hold (the hub's
 * `rental.holdWindowSeconds` after the disk is ready), up to 48 h ahead.
 */
export const MAX_EXPIRY_AHEAD_BY_ACTION: Record<SignedAction, number> = {
  Dispense: MAX_EXPIRY_AHEAD_MS,
  WipeDisk: MAX_EXPIRY_AHEAD_MS,
  PrepareDisk: 48 * 60 * 60 * 1000,
  InstallUpdate: 24 * 60 * 60 * 1000,
  ArmPickupCode: 48 * 60 * 60 * 1000,
  UploadDiagnostics: MAX_EXPIRY_AHEAD_MS,
  // Delivered when an offline kiosk comes back: the hub signs it for up to a day.
  ApplyConfig: 24 * 60 * 60 * 1000,
};

/**
 * Checks a signed command's signature, kiosk id and expiry (not past, not more than
 * MAX_EXPIRY_AHEAD_BY_ACTION ahead), both with the clock skew allowance (DEFAULT_MAX_SKEW_MS,
 * 30 s): the hub signs some commands for exactly the longest their action allows (ApplyConfig:
 * 24 h), so a kiosk clock a moment behind the hub's must not refuse them. Returns the nonce to
 * remember, or the reason to refuse. Pure apart from reading the clock.
 */
export function checkSignature(
  deps: CommandDeps,
  action: SignedAction,
  payload: { commandId: string },
): { nonce: string; expiresAt: string } | { reason: string } {
  const now = deps.clock.now();
  const res = verifyCommand(deps.hubPublicKeyPem, deps.kioskId, action, payload, { now });
  if (!res.ok) return { reason: res.reason };
  const maxAhead = MAX_EXPIRY_AHEAD_BY_ACTION[action];
  if (Date.parse(res.expiresAt) - now.getTime() > maxAhead + DEFAULT_MAX_SKEW_MS) {
    return {
      reason: `expiresAt ${res.expiresAt} is more than ${maxAhead / 60000} minutes ahead`,
    };
  }
  return { nonce: res.nonce, expiresAt: res.expiresAt };
}

/** The reason given for a replayed nonce. */
export const replayReason = (nonce: string) => `nonce ${nonce} was already used (replayed command)`;

/**
 * Refuses a signed command: appends a `CommandRejected` event, logs, and throws CallError
 * SecurityError (the gate stores and sends it).
 */
export function refuseSigned(
  deps: CommandDeps,
  action: SignedAction,
  payload: { commandId: string },
  ctx: CommandContext,
  reason: string,
): never {
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

/**
 * Checks a signed command (Dispense, PrepareDisk, WipeDisk): checkSignature, then the
 * nonce (never seen before; kept until expiry). Refuses with refuseSigned on failure.
 */
export function verifySigned(
  deps: CommandDeps,
  action: SignedAction,
  payload: { commandId: string },
  ctx: CommandContext,
): void {
  const sig = checkSignature(deps, action, payload);
  if ('reason' in sig) refuseSigned(deps, action, payload, ctx, sig.reason);
  if (!deps.nonces.remember(sig.nonce, sig.expiresAt)) {
    refuseSigned(deps, action, payload, ctx, replayReason(sig.nonce));
  }
}
