import type { CommandResponse, HubToKioskAction, RequestOf } from '../../protocol/index.js';
import type { KioskDb } from '../db/open-db.js';
import type { Hardware } from '../hardware.js';
import type { CommandContext } from '../link/command-gate.js';
import type { KioskLogger } from '../log.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { HubClock } from '../state/clock.js';
import type { Inbox } from '../state/inbox.js';
import type { NonceStore } from '../state/nonces.js';
import type { Outbox } from '../state/outbox.js';
import type { UpdateLock } from '../update/update-lock.js';
import type { TestHooks } from './test-hooks.js';

/** What every command handler may use; built once by the daemon. */
export interface CommandDeps {
  kioskId: string;
  db: KioskDb;
  slots: SlotStore;
  inbox: Inbox;
  outbox: Outbox;
  nonces: NonceStore;
  clock: HubClock;
  hardware: Hardware;
  /** The hub's Ed25519 public key (PEM) that signed commands are checked against. */
  hubPublicKeyPem: string;
  log: KioskLogger;
  hooks: TestHooks;
  /** Held by every dispense; while an update owns it a Dispense is Rejected. */
  updateLock?: UpdateLock;
}

/** One hub command's handler: resolves with the answer, or throws protocol's CallError. */
export type CommandHandler<A extends HubToKioskAction> = (
  payload: RequestOf<A>,
  ctx: CommandContext,
) => CommandResponse | Promise<CommandResponse>;

export const rejected = (reason: string): CommandResponse => ({ status: 'Rejected', reason });
export const accepted = (): CommandResponse => ({ status: 'Accepted' });
