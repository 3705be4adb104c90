import {
  type BootRequest,
  CallError,
  type HeartbeatRequest,
  type InventoryRequest,
  kioskFeatures,
} from '../../protocol/index.js';
import type { Logger } from '../log.js';
import type { HubMetrics } from '../metrics.js';
import { recordReportedConfig } from '../registry/reported-config.js';
import type { Store, Tx } from '../store/types.js';
import type { CommandDispatcher } from './command-dispatcher.js';
import type { EventIntake } from './event-intake.js';
import { checkInventory } from './inventory-check.js';
import type { KioskSession } from './kiosk-session.js';

/** The flag kind raised when a kiosk boots with a new database (one open flag per kiosk). */
export const KIOSK_DATABASE_REPLACED = 'KIOSK_DATABASE_REPLACED';

/** What the kiosk-message handlers use of the hub. */
export interface KioskMessagesContext {
  store: Store;
  metrics: HubMetrics;
  heartbeatIntervalSeconds: number;
  now: () => Date;
  commands: CommandDispatcher;
  events: EventIntake;
  /** An Inventory of `kioskId` was stored: another may be requested. */
  inventoryArrived: (kioskId: string) => void;
  /** An accepted Boot of `kioskId` was recorded (after its commit). */
  booted: (kioskId: string, boot: BootRequest) => void;
}

/**
 * Answers a kiosk's own calls on its session: Boot (records it; the first accepted Boot of a
 * connection re-sends the kiosk's outstanding commands), Heartbeat, Inventory and Event, the
 * last three only after an accepted Boot on this connection.
 */
export function handleKioskMessages(
  session: KioskSession,
  logger: Logger,
  ctx: KioskMessagesContext,
): void {
  const { kioskId, peer } = session;
  const store = ctx.store;
  /** Heartbeat, Inventory and Event need an accepted Boot on this connection first. */
  const booted = (action: string): number => {
    if (session.ready && session.slotCount !== undefined) return session.slotCount;
    ctx.metrics.error('not_booted');
    logger.warn({ action }, `${action} before an accepted Boot: refused`);
    throw new CallError(
      'SecurityError',
      `${action} refused: send Boot first and wait for its Accepted answer`,
      { problem: 'boot-required' },
    );
  };
  peer.handle('Boot', async (p: BootRequest) => {
    const currentTime = ctx.now().toISOString();
    if (p.kioskId !== kioskId) {
      logger.warn({ claimed: p.kioskId }, 'Boot names another kiosk id: rejected');
      // A rejected Boot leaves the connection good for nothing but another Boot.
      session.ready = false;
      session.slotCount = undefined;
      return {
        status: 'Rejected',
        currentTime,
        heartbeatInterval: ctx.heartbeatIntervalSeconds,
        reason: 'Boot names another kiosk id than the one this connection authenticated as',
      };
    }
    // Bookkeeping at READ COMMITTED (no predicate locks: 20,000 kiosks boot at once after a
    // restart): recordBoot's UPDATE locks the kiosk's row first, so two Boots take turns.
    await store.transaction(
      async (tx) => {
        const boot = await tx.kiosks.recordBoot(kioskId, {
          at: currentTime,
          softwareVersion: p.softwareVersion,
          imageVersion: p.imageVersion ?? null,
          slotCount: p.slotCount,
          bootReason: p.bootReason,
          ...(p.databaseId ? { databaseId: p.databaseId } : {}),
          features: p.features ?? null,
        });
        if (boot.databaseReplaced) await databaseReplaced(tx, kioskId, logger, currentTime, boot);
        // Only a kiosk that lists apply-config takes ApplyConfig; what another reports is ignored.
        if (p.config && kioskFeatures(p.features).has('apply-config'))
          await recordReportedConfig(tx, logger, kioskId, 'Boot', { ...p.config, at: currentTime });
      },
      { isolation: 'read committed' },
    );
    // Before the 'booted' listeners run: commands they create are sent by these features.
    session.features = kioskFeatures(p.features);
    ctx.booted(kioskId, p);
    const first = !session.ready;
    session.slotCount = p.slotCount;
    session.ready = true;
    if (first) {
      setImmediate(() => {
        if (session.open)
          void ctx.commands
            .deliverOutstanding(session)
            .catch((err) => logger.error({ err }, 're-send failed'));
      });
    }
    return {
      status: 'Accepted',
      currentTime,
      heartbeatInterval: ctx.heartbeatIntervalSeconds,
    };
  });
  peer.handle('Heartbeat', async (p: HeartbeatRequest) => {
    booted('Heartbeat');
    const currentTime = ctx.now().toISOString();
    // Statements that each stand alone (a touch, two upserts): autocommit, no BEGIN/COMMIT.
    await store.transaction(
      async (tx) => {
        await tx.kiosks.touch(kioskId, currentTime);
        // What the kiosk reports about itself: the remote configuration it runs, its cache use.
        if (p.config && session.features.has('apply-config'))
          await recordReportedConfig(tx, logger, kioskId, 'Heartbeat', {
            ...p.config,
            at: currentTime,
          });
        if (p.cache) await tx.remoteConfig.reportCache(kioskId, { ...p.cache, at: currentTime });
      },
      { isolation: 'autocommit' },
    );
    return { currentTime };
  });
  peer.handle('Inventory', async (p: InventoryRequest) => {
    const refusal = checkInventory(p.slots, booted('Inventory'));
    if (refusal) {
      ctx.metrics.error('inventory_refused');
      logger.warn({ ...refusal.details }, `Inventory refused: ${refusal.message}`);
      throw refusal;
    }
    const at = ctx.now().toISOString();
    await store.transaction((tx) =>
      tx.slots.replaceAll(
        kioskId,
        p.slots.map((s) => ({
          kioskId,
          slot: s.slot,
          state: s.state,
          snapshot: s as Record<string, unknown>,
          updatedAt: at,
        })),
      ),
    );
    ctx.inventoryArrived(kioskId);
    return {};
  });
  peer.handle('Event', async (ev) => {
    booted('Event');
    try {
      await ctx.events.receive(kioskId, ev);
    } catch (err) {
      if (err instanceof CallError) throw err; // refused by the intake: logged there
      ctx.metrics.error('event_handler');
      logger.error(
        { err, eventId: ev.eventId },
        'recording an event failed; the kiosk will re-send it',
      );
      throw err;
    }
    return {};
  });
}

/**
 * A Boot brought a databaseId other than the kiosk's recorded one: its database was replaced
 * (SD card re-flashed, data partition lost), so its events number from 1 again. The store
 * has reset lastSeq and records when; seqs of the lost database no longer count as reused.
 * Whatever the lost database had not delivered is gone: the kiosk's Inventory (asked for
 * after every Boot) is the truth about its slots. Flagged and audited for the operator.
 */
async function databaseReplaced(
  tx: Tx,
  kioskId: string,
  logger: Logger,
  at: string,
  b: { previous: string; lastSeq: number },
): Promise<void> {
  const message =
    `kiosk ${kioskId} booted with a new database (was ${b.previous}, last event seq ${b.lastSeq}); ` +
    'its event seq starts again at 1. Events it had not sent before are lost: check its slots and open orders';
  logger.warn({ kioskId, previous: b.previous, lastSeq: b.lastSeq }, message);
  await tx.flags.raise(KIOSK_DATABASE_REPLACED, kioskId, message, at);
  await tx.audit.insert({
    at,
    actor: `kiosk:${kioskId}`,
    action: 'kiosk.database_replaced',
    subject: kioskId,
    kioskId,
    ip: null,
    details: { previous: b.previous, lastSeq: b.lastSeq },
  });
}
