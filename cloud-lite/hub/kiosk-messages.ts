import { isoTime } from '../../common/iso-time.js';
import {
  type BootRequest,
  CallError,
  type EventRequest,
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
  /** The parent of the sessions' loggers, for lines that name the kiosk themselves. */
  logger: Logger;
  metrics: HubMetrics;
  heartbeatIntervalSeconds: number;
  now: () => Date;
  commands: CommandDispatcher;
  events: EventIntake;
  /** An Inventory of `kioskId` was stored: another may be requested. */
  inventoryArrived: (kioskId: string) => void;
  /** An accepted Boot of `kioskId` was recorded (after its commit). */
  booted: (kioskId: string, boot: BootRequest) => void;
  /** This hub process's id: a Boot claims the kiosk for it (KioskRepo.recordBoot). */
  hubProcess: string;
  /**
   * A Boot came on `session`: a connection attached while its kiosk had a session here replaces
   * it now (4001), the kiosk having shown it uses this one.
   */
  booting: (session: KioskSession) => void;
  /** A Boot's claim committed (`first`: the connection's first accepted Boot). */
  claimed: (kioskId: string, first: boolean) => void;
  /** A Boot found a later connection of the kiosk recorded: `session` is closed (4001). */
  replaced: (session: KioskSession) => void;
  /**
   * Runs the Boot's statement under the hub's admission limit (a storm of Boots waits in the
   * hub, not in the store's pool); when it waited too long, rejects (the Boot is answered a
   * CALLERROR GenericError) and the connection is closed with 1013 after that answer.
   */
  admit: <T>(session: KioskSession, fn: () => Promise<T>) => Promise<T>;
  /** Records a Heartbeat's time (batched: hub/touch-batch.ts); resolves once committed. */
  touch: (kioskId: string, at: string) => Promise<void>;
}

/** A kiosk's call answered on its session (kioskMessageHandlers). */
type KioskHandler<P> = (session: KioskSession, payload: P) => Promise<unknown>;

/** The hub's answers to kiosks' own calls, one table for every session (KioskSession.handler). */
export interface KioskMessageHandlers {
  Boot: KioskHandler<BootRequest>;
  Heartbeat: KioskHandler<HeartbeatRequest>;
  Inventory: KioskHandler<InventoryRequest>;
  Event: KioskHandler<EventRequest>;
}

/**
 * Answers kiosks' own calls on their sessions: Boot (records it; the first accepted Boot of a
 * connection re-sends the kiosk's outstanding commands), Heartbeat, Inventory and Event, the
 * last three only after an accepted Boot on the connection. One table of handlers for every
 * session of the hub (each gets the session): a hub holds 10,000 sessions, and closures of
 * their own cost each ~400 bytes.
 */
export function kioskMessageHandlers(ctx: KioskMessagesContext): KioskMessageHandlers {
  const store = ctx.store;
  /** Heartbeat, Inventory and Event need an accepted Boot on this connection first. */
  const booted = (session: KioskSession, action: string): number => {
    if (session.ready && session.slotCount !== undefined) return session.slotCount;
    ctx.metrics.error('not_booted');
    session.logger.warn({ action }, `${action} before an accepted Boot: refused`);
    throw new CallError(
      'SecurityError',
      `${action} refused: send Boot first and wait for its Accepted answer`,
      { problem: 'boot-required' },
    );
  };
  return {
    Boot: async (session, p) => {
      const { kioskId } = session;
      const currentTime = isoTime(ctx.now().getTime());
      if (p.kioskId !== kioskId) {
        session.logger.warn({ claimed: p.kioskId }, 'Boot names another kiosk id: rejected');
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
      ctx.booting(session);
      // A connection replaced (here) before its Boot or while it waited never claims the kiosk.
      if (!session.open) throw new CallError('GenericError', 'this connection was replaced');
      // One statement (autocommit): the Boot's record, the online mark and this process's claim,
      // and whether commands wait (KioskRepo.recordBoot). A later connection of the kiosk recorded
      // by another process wins: nothing is written and this socket is closed.
      const boot = await ctx.admit(session, async () => {
        if (!session.open) return { claimed: false } as const;
        return store.transaction(
          (tx) =>
            tx.kiosks.recordBoot(kioskId, {
              at: currentTime,
              softwareVersion: p.softwareVersion,
              imageVersion: p.imageVersion ?? null,
              slotCount: p.slotCount,
              bootReason: p.bootReason,
              ...(p.databaseId ? { databaseId: p.databaseId } : {}),
              features: p.features ?? null,
              claim: { connectedAt: session.connectedAt, hubProcess: ctx.hubProcess },
            }),
          { isolation: 'autocommit' },
        );
      });
      if (!boot.claimed) {
        session.logger.info('a later connection of this kiosk was recorded: closing this one');
        ctx.replaced(session);
        throw new CallError('GenericError', 'a later connection of this kiosk replaced this one');
      }
      if (boot.databaseReplaced && p.databaseId) {
        const databaseId = p.databaseId;
        // Rare: the reset, its flag and its audit row commit together (or not at all).
        await store.transaction(
          async (tx) => {
            const r = await tx.kiosks.replaceDatabase(kioskId, {
              databaseId,
              previous: boot.previous,
              at: currentTime,
            });
            if (r)
              await databaseReplaced(tx, kioskId, session.logger, currentTime, {
                previous: boot.previous,
                lastSeq: r.lastSeq,
              });
          },
          { isolation: 'read committed' },
        );
      }
      // Only a kiosk that lists apply-config takes ApplyConfig; what another reports is ignored.
      if (p.config && kioskFeatures(p.features).has('apply-config')) {
        const config = p.config;
        await store.transaction(
          (tx) =>
            recordReportedConfig(tx, ctx.logger, kioskId, 'Boot', { ...config, at: currentTime }),
          { isolation: 'autocommit' },
        );
        session.reportedConfig = configKey(config);
      }
      // Before the 'booted' listeners run: commands they create are sent by these features.
      session.features = kioskFeatures(p.features);
      const first = !session.ready;
      ctx.claimed(kioskId, first);
      ctx.booted(kioskId, p);
      session.slotCount = p.slotCount;
      session.ready = true;
      // Commands recorded before the Boot's statement (`outstanding`) or that found the session
      // not ready since (commandsWaiting; from now on they are sent at once) are re-sent.
      if (first && (boot.outstanding || session.commandsWaiting)) {
        session.commandsWaiting = false;
        setImmediate(() => {
          if (session.open)
            void ctx.commands
              .deliverOutstanding(session)
              .catch((err) => session.logger.error({ err }, 're-send failed'));
        });
      }
      return {
        status: 'Accepted',
        currentTime,
        heartbeatInterval: ctx.heartbeatIntervalSeconds,
      };
    },
    Heartbeat: async (session, p) => {
      booted(session, 'Heartbeat');
      const { kioskId } = session;
      const currentTime = isoTime(ctx.now().getTime());
      // lastSeenAt goes out with the other heartbeats of the moment, one statement (TouchBatch);
      // what the kiosk reports about itself (its remote configuration, its cache use) is written
      // only when it differs from what this connection reported last.
      const writes = [ctx.touch(kioskId, currentTime)];
      const config =
        p.config &&
        session.features.has('apply-config') &&
        configKey(p.config) !== session.reportedConfig
          ? p.config
          : undefined;
      const cache = p.cache && cacheKey(p.cache) !== session.reportedCache ? p.cache : undefined;
      if (config || cache)
        writes.push(
          store
            .transaction(
              async (tx) => {
                if (config)
                  await recordReportedConfig(tx, ctx.logger, kioskId, 'Heartbeat', {
                    ...config,
                    at: currentTime,
                  });
                if (cache)
                  await tx.remoteConfig.reportCache(kioskId, { ...cache, at: currentTime });
              },
              { isolation: 'autocommit' },
            )
            .then(() => {
              if (config) session.reportedConfig = configKey(config);
              if (cache) session.reportedCache = cacheKey(cache);
            }),
        );
      await Promise.all(writes);
      return { currentTime };
    },
    Inventory: async (session, p) => {
      const refusal = checkInventory(p.slots, booted(session, 'Inventory'));
      const { kioskId } = session;
      if (refusal) {
        ctx.metrics.error('inventory_refused');
        session.logger.warn({ ...refusal.details }, `Inventory refused: ${refusal.message}`);
        throw refusal;
      }
      const at = isoTime(ctx.now().getTime());
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
    },
    Event: async (session, ev) => {
      booted(session, 'Event');
      const { kioskId } = session;
      try {
        await ctx.events.receive(kioskId, ev);
      } catch (err) {
        if (err instanceof CallError) throw err; // refused by the intake: logged there
        ctx.metrics.error('event_handler');
        session.logger.error(
          { err, eventId: ev.eventId },
          'recording an event failed; the kiosk will re-send it',
        );
        throw err;
      }
      return {};
    },
  };
}

const configKey = (c: { version: number; restartPending: boolean }) =>
  `${c.version}/${c.restartPending}`;
const cacheKey = (c: { usedBytes: number; maxBytes: number }) => `${c.usedBytes}/${c.maxBytes}`;

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
