import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Logger } from '../log.js';
import { HUB_APPLICATION_PREFIX } from '../store/postgres/kiosk-repo.js';
import type { Cluster, ClusterMessage, ClusterStats, LeaderWork } from './cluster.js';

/** The NOTIFY channel every hub process listens on. */
export const CLUSTER_CHANNEL = 'disk_kiosk_hub';
/** The advisory lock the leader holds (one bigint key: "dk-lead"). */
export const LEADER_LOCK_KEY = '28265340507349348';
/** Messages kept while the cluster connection is being re-made (older ones are dropped). */
const MAX_QUEUED = 10_000;
/** Most messages sent in one round trip (one implicit transaction, one commit). */
const MAX_BATCH = 200;
/**
 * Sends a batch of messages ($2, in order) on the channel ($1): one prepared statement, parsed
 * once per connection (a SELECT pg_notify per message was parsed and planned every time). The
 * notifications are queued in the order pg_notify runs: row by row as the function scan reads
 * the array, in its order (the ORDER BY on the ordinality states it; PostgreSQL 15 plans no
 * sort for it: EXPLAIN VERBOSE shows pg_notify computed in the scan itself).
 */
const NOTIFY_BATCH =
  'SELECT pg_notify($1, u.m) FROM unnest($2::text[]) WITH ORDINALITY AS u(m, i) ORDER BY u.i';
/** A NOTIFY's payload must be shorter than 8000 bytes; a little is kept for safety. */
export const MAX_PAYLOAD_BYTES = 7900;

export interface PgClusterDeps {
  url: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** How often a follower tries to take the lead, and the leader checks its connection (ms). */
  leaderRetryMs?: number;
  /** Default: a random UUID. */
  processId?: string;
}

/**
 * Several hub processes on one PostgreSQL. Two connections of its own, besides the store's pool:
 *  - the cluster connection (application_name `cloud-lite/<process id>`, the process's
 *    presence: kiosks held by a process without it are released by the leader) LISTENs on
 *    `disk_kiosk_hub` and sends this process's NOTIFYs, in order;
 *  - the leader connection tries `pg_try_advisory_lock` every `leaderRetryMs`; the process
 *    that holds it runs the periodic work (whileLeader). The lock lives as long as that
 *    connection: a leader killed, or cut from the database, loses it at once and another
 *    process takes over at its next try (within `leaderRetryMs`).
 * A lost connection is re-made at the next try; after the cluster connection came back,
 * 'resync' tells the hub that messages may have been missed.
 */
export class PgCluster
  extends EventEmitter<{ message: [ClusterMessage]; resync: [] }>
  implements Cluster
{
  readonly processId: string;
  readonly shared = true;
  private listener: pg.Client | undefined;
  private leaderClient: pg.Client | undefined;
  private leading = false;
  private readonly work: LeaderWork[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private ticking: Promise<void> | undefined;
  private sending: Promise<void> = Promise.resolve();
  private readonly queued: string[] = [];
  /** Leader work starting or stopping, in order. */
  private transition: Promise<void> = Promise.resolve();
  /** Until then (ms) this process does not try for the lead: it just lost it with its connection. */
  private holdOffUntil = 0;
  private readonly counts: ClusterStats = { sent: 0, received: 0, roundTrips: 0 };

  constructor(private readonly deps: PgClusterDeps) {
    super();
    this.setMaxListeners(0);
    this.processId = deps.processId ?? randomUUID();
  }

  isLeader(): boolean {
    return this.leading;
  }

  whileLeader(work: LeaderWork): void {
    this.work.push(work);
    if (this.leading) this.transition = this.transition.then(() => work.start());
  }

  stats(): ClusterStats {
    return { ...this.counts };
  }

  publish(msg: ClusterMessage): void {
    let payload = JSON.stringify({ ...msg, from: this.processId });
    // A command's record that does not fit: its id alone, receivers read the row.
    if (msg.t === 'command' && msg.rec && Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES)
      payload = JSON.stringify({ ...msg, rec: undefined, from: this.processId });
    if (this.queued.length >= MAX_QUEUED) this.queued.shift();
    this.queued.push(payload);
    this.flush();
  }

  /**
   * Sends the queued messages on the cluster connection, in order: those queued while the
   * previous batch was on its way go together, as one statement (NOTIFY_BATCH: one round trip,
   * one transaction: PostgreSQL delivers its NOTIFYs in the order sent).
   */
  private flush(): void {
    this.sending = this.sending.then(async () => {
      while (this.queued.length > 0 && this.listener) {
        const c = this.listener;
        const batch = this.queued.slice(0, MAX_BATCH);
        try {
          this.counts.roundTrips++;
          await c.query({
            name: 'dk_cluster_notify',
            text: NOTIFY_BATCH,
            values: [CLUSTER_CHANNEL, batch],
          });
          this.queued.splice(0, batch.length);
          this.counts.sent += batch.length;
        } catch (err) {
          // Kept: sent once the connection is back (tick()).
          this.lost(c, err as Error);
          return;
        }
      }
    });
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connectListener();
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.deps.leaderRetryMs ?? 2000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    await this.sending;
    if (this.leading) await this.loseLead('stopping');
    await this.transition;
    const clients = [this.listener, this.leaderClient];
    this.listener = undefined;
    this.leaderClient = undefined;
    await Promise.all(clients.map((c) => c?.end().catch(() => undefined)));
  }

  private client(kind: string): pg.Client {
    return new pg.Client({
      connectionString: this.deps.url,
      application_name: `${kind}${this.processId}`,
      keepAlive: true,
    });
  }

  private async connectListener(): Promise<void> {
    const c = this.client(HUB_APPLICATION_PREFIX);
    c.on('error', (err) => this.lost(c, err));
    c.on('end', () => this.lost(c));
    // PostgreSQL delivers a session's own NOTIFYs to it too: this process's messages (sent on
    // this connection, flush()) are dropped by the sending backend's pid, before any parsing.
    c.on('notification', (n) => {
      if (n.processId !== (c as { processID?: number }).processID) this.receive(n.payload);
    });
    await c.connect();
    // A NOTIFY commits a transaction of its own; nothing it says outlives a server restart
    // (listeners re-read after 'resync'), so its commit need not wait for the WAL's flush.
    await c.query(`SET synchronous_commit = off; LISTEN ${CLUSTER_CHANNEL}`);
    this.listener = c;
  }

  private lost(c: pg.Client, err?: Error): void {
    if (c === this.listener) {
      this.listener = undefined;
      if (!this.stopped)
        this.deps.logger.warn({ err }, 'cluster connection lost; re-made at the next try');
    } else if (c === this.leaderClient) {
      this.leaderClient = undefined;
      if (this.leading && !this.stopped) {
        // Sit out two tries: a process cut off from the database is the likeliest to be cut
        // off again, and without this it re-takes the lock as often as the others do.
        this.holdOffUntil = Date.now() + 2 * (this.deps.leaderRetryMs ?? 2000);
        void this.loseLead('the leader connection was lost');
      }
    } else return;
    void c.end().catch(() => undefined);
  }

  private receive(payload: string | undefined): void {
    let msg: (ClusterMessage & { from?: string }) | undefined;
    try {
      msg = JSON.parse(payload ?? '');
    } catch {
      this.deps.logger.warn({ payload }, 'cluster message that does not parse: ignored');
      return;
    }
    if (!msg || msg.from === this.processId) return;
    this.counts.received++;
    const { from: _from, ...rest } = msg;
    try {
      this.emit('message', rest as ClusterMessage);
    } catch (err) {
      this.deps.logger.error({ err, msg: rest }, 'handling a cluster message failed');
    }
  }

  /** One try: re-make lost connections, take the lead if free, check the leader's connection. */
  private tick(): Promise<void> {
    if (this.ticking || this.stopped) return this.ticking ?? Promise.resolve();
    this.ticking = this.tryOnce().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async tryOnce(): Promise<void> {
    if (!this.listener) {
      try {
        await this.connectListener();
        this.deps.logger.info('cluster connection re-made');
        this.flush();
        this.emit('resync');
      } catch (err) {
        this.deps.logger.warn({ err }, 'cluster connection: cannot reach PostgreSQL');
      }
    }
    try {
      if (!this.leaderClient) {
        const c = this.client('cloud-lite-leader/');
        c.on('error', (err) => this.lost(c, err));
        c.on('end', () => this.lost(c));
        await c.connect();
        this.leaderClient = c;
      }
      const c = this.leaderClient;
      if (this.leading) {
        await c.query('SELECT 1');
        return;
      }
      if (Date.now() < this.holdOffUntil) return;
      const { rows } = await c.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock($1::bigint) AS ok',
        [LEADER_LOCK_KEY],
      );
      if (rows[0]?.ok && !this.stopped && c === this.leaderClient) this.takeLead();
    } catch (err) {
      if (!this.stopped) this.deps.logger.warn({ err }, 'leader election: try failed');
      if (this.leaderClient) this.lost(this.leaderClient, err as Error);
    }
  }

  private takeLead(): void {
    this.leading = true;
    this.deps.logger.info({ processId: this.processId }, 'this hub process leads the cluster');
    const work = [...this.work];
    this.transition = this.transition.then(() => {
      for (const w of work) w.start();
    });
  }

  private loseLead(why: string): Promise<void> {
    this.leading = false;
    if (!this.stopped) this.deps.logger.warn({ why }, 'this hub process no longer leads');
    const work = [...this.work].reverse();
    this.transition = this.transition.then(async () => {
      for (const w of work)
        await Promise.resolve()
          .then(() => w.stop())
          .catch((err) => this.deps.logger.error({ err, work: w.name }, 'stopping leader work'));
    });
    return this.transition;
  }
}
