import { EventEmitter } from 'node:events';
import type { CommandRecord } from '../store/types.js';

/**
 * What one hub process tells the others (cluster/pg-cluster.ts sends it with PostgreSQL
 * NOTIFY, after the commit it announces). Receivers re-read the database: a message carries
 * ids, never state, except a command's, which carries the record as committed.
 */
export type ClusterMessage =
  /**
   * A command was recorded or changed state: its kiosk's holder sends it, waiters see the new
   * state. `rec`: the command as the sender committed it (so nobody reads it again); left out
   * when the message would not fit a NOTIFY (payload over 8000 bytes): receivers read the row.
   */
  | { t: 'command'; id: string; kioskId: string; rec?: CommandRecord }
  /**
   * Kiosks booted on the sender (their Boots claimed them, committed): another process holding
   * an older socket of one closes it (4001). Batched, at most BATCH_MAX ids a message; `session`
   * (one kiosk) is what hub processes before the batching sent, still understood.
   */
  | { t: 'sessions'; kioskIds: string[] }
  | { t: 'session'; kioskId: string }
  /**
   * The leader marked these kiosks offline, their holders gone from pg_stat_activity
   * (KioskRepo.releaseDeadHolders): a process that holds one's live socket all the same (its
   * cluster connection was being re-made) claims it again. At most BATCH_MAX ids a message.
   */
  | { t: 'released'; kioskIds: string[] }
  /** The kiosk was revoked, or its secret replaced: every process closes its socket. */
  | { t: 'revoked'; kioskId: string }
  | { t: 'secretReplaced'; kioskId: string }
  /** An order or a reservation changed: renters' live streams on every process re-read it. */
  | { t: 'order'; id: string }
  | { t: 'reservation'; id: string }
  /**
   * Kiosks went offline, or sent an Inventory or events (after the commit): operators' live
   * fleet views on every process re-read them (GET /api/operator/fleet/events). At most
   * BATCH_MAX ids a message (a NOTIFY's payload is at most 8000 bytes).
   */
  | { t: 'fleet'; kioskIds: string[] }
  /** Alerts were raised, acknowledged or resolved: operators' live alert panels re-read them. */
  | { t: 'alerts' };

/** Ids per batched message: 100 kiosk ids of at most 64 characters fit a NOTIFY's 8000 bytes. */
export const BATCH_MAX = 100;

/**
 * Tells the other processes about many changes at once: ids added within `delayMs` go out as
 * one message per BATCH_MAX ids (a kiosk fleet reconnecting after a restart costs a few
 * NOTIFYs, not one per kiosk and event). On a cluster that is not shared, nothing is kept.
 */
export class ClusterBatch {
  private readonly ids = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster: Pick<Cluster, 'shared' | 'publish'>,
    private readonly message: (ids: string[]) => ClusterMessage,
    private readonly delayMs = 100,
  ) {}

  add(id: string): void {
    if (!this.cluster.shared) return;
    this.ids.add(id);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }

  /** Sends what is kept now (also at stop). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const all = [...this.ids];
    this.ids.clear();
    for (let i = 0; i < all.length; i += BATCH_MAX)
      this.cluster.publish(this.message(all.slice(i, i + BATCH_MAX)));
  }
}

export interface ClusterStats {
  sent: number;
  received: number;
  /** Queries that sent them: queued messages go out together (pg-cluster.ts). */
  roundTrips: number;
}

/** Work that runs on the leader only: started when this process becomes leader, stopped when it stops being one. */
export interface LeaderWork {
  name: string;
  start(): void;
  stop(): Promise<void> | void;
}

/**
 * The hub processes sharing one store. Emits 'message' (ClusterMessage from another process)
 * and 'resync' (messages may have been lost: the link to the database was re-made; re-read
 * what matters, e.g. send each connected kiosk its outstanding commands).
 */
export interface Cluster extends EventEmitter<{ message: [ClusterMessage]; resync: [] }> {
  /** This process's id in the session registry (kiosks.hub_process). */
  readonly processId: string;
  /** false: this process is the only one (SQLite), so nothing needs telling. */
  readonly shared: boolean;
  /** Whether this process runs the periodic work now. */
  isLeader(): boolean;
  /** Registers work for the leader: started at once if this process leads, else when it takes over. */
  whileLeader(work: LeaderWork): void;
  /** Tells the other processes (not this one); sent in order, failures are logged, not thrown. */
  publish(msg: ClusterMessage): void;
  /** Messages sent and received so far, and the round trips (NOTIFY queries) that sent them. */
  stats(): ClusterStats;
  start(): Promise<void>;
  /** Stops the leader's work (awaited), gives up the lead and closes the cluster's connections. */
  stop(): Promise<void>;
}

/**
 * One hub process on SQLite: always the leader, nobody to tell. Leader work runs from
 * start() to stop().
 */
export class SoloCluster
  extends EventEmitter<{ message: [ClusterMessage]; resync: [] }>
  implements Cluster
{
  readonly processId = 'solo';
  readonly shared = false;
  private readonly work: LeaderWork[] = [];
  private running = false;

  isLeader(): boolean {
    return this.running;
  }

  whileLeader(work: LeaderWork): void {
    this.work.push(work);
    if (this.running) work.start();
  }

  publish(): void {}

  stats(): ClusterStats {
    return { sent: 0, received: 0, roundTrips: 0 };
  }

  async start(): Promise<void> {
    this.running = true;
    for (const w of this.work) w.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const w of [...this.work].reverse()) await w.stop();
  }
}
