import type { HubToKioskAction, RequestOf } from '../../protocol/index.js';

/** What the dispatcher needs from a live kiosk connection. */
export interface CommandChannel {
  readonly kioskId: string;
  /** True once the kiosk has sent Boot on this connection and may receive commands. */
  readonly ready: boolean;
  readonly open: boolean;
  /** Command ids sent on this connection and not yet answered. */
  readonly inFlight: Set<string>;
  /**
   * The protocol features the kiosk's accepted Boot on this connection listed (the baseline when
   * it listed none; protocol/features.ts): a command needing another one is not sent.
   */
  readonly features: ReadonlySet<string>;
  /** Sends one CALL; rejects like RpcPeer.call (ETIMEOUT, ECLOSED, ECALLERROR, EINVALID). */
  call(
    action: HubToKioskAction,
    payload: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<unknown>;
}

/** Payload of a command as the domain gives it: the hub adds `commandId` (and `signature`). */
export type CommandInput<A extends HubToKioskAction> = Omit<
  RequestOf<A>,
  'commandId' | 'signature'
>;

/** Actions whose `Accepted` means "work started" (outcome comes as events); others complete at once. */
export const LONG_RUNNING_ACTIONS: ReadonlySet<string> = new Set([
  'Dispense',
  'PrepareDisk',
  'WipeDisk',
  'InstallUpdate',
  'UploadDiagnostics',
]);

/** Actions signed with the hub's Ed25519 key. */
export const SIGNED_ACTIONS: ReadonlySet<string> = new Set([
  'Dispense',
  'PrepareDisk',
  'WipeDisk',
  'InstallUpdate',
  'ArmPickupCode',
  'UploadDiagnostics',
  'ApplyConfig',
]);

/** Close codes the hub uses. */
export const CLOSE_REPLACED = 4001;
/** The secret the connection authenticated with was replaced by an enrolment. */
export const CLOSE_SECRET_REPLACED = 4002;
export const CLOSE_REVOKED = 4003;
export const CLOSE_GOING_AWAY = 1001;
/** The hub is too busy to admit the kiosk now (a reconnect storm): reconnect after the backoff. */
export const CLOSE_TRY_AGAIN = 1013;
