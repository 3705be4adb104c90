import { EventEmitter } from 'node:events';
import { type Actor, audit, SYSTEM } from '../audit.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { KioskCommands } from '../hub/kiosk-commands.js';
import type { Logger } from '../log.js';
import type { Mailer } from '../notifications/mailer.js';
import type { Catalog } from '../rental/catalog/catalog.js';
import type { AlertRecord, AlertState, Store, Tx } from '../store/types.js';
import type { AlertsConfig } from './config.js';
import { ALERT_KINDS, type AlertKind } from './kinds.js';
import { type Finding, SWEPT_KINDS, sweepFindings } from './rules.js';
import { postWebhook, retryDelayMs, webhookSecret } from './webhook.js';

/** What an alert change is called on the webhook and in e-mail. */
export type AlertEvent = 'opened' | 'reminder' | 'acknowledged' | 'resolved';

export interface AlertServiceDeps {
  store: Store;
  config: AlertsConfig;
  logger: Logger;
  /** The kiosks' hub port: whether a kiosk is there, and its events. */
  kiosks: KioskCommands;
  catalog: Catalog;
  mailer: Mailer;
  now?: () => Date;
}

const AUTO = SYSTEM('alerts');
/** How soon a tick asked for by soon() runs (ms). */
const SOON_MS = 5000;

/**
 * Alerts for operators, raised from facts (docs/alerts-and-notifications.md): one live alert per
 * cause (its dedupe key `<kind>:<subject>`), open -> acknowledged -> resolved with who acted.
 * The periodic sweep raises and resolves the kinds it can see in the store (SWEPT_KINDS);
 * kiosk events raise door, tamper and clock alerts (attach()); the invariant checker reports its
 * violations through reconcile(). Every change goes to the signed webhook (an outbox retried
 * with backoff) and by e-mail to `config.emailTo`; an open alert is told again every
 * `renotifyIntervalSeconds` until acknowledged. Emits 'change' with the alert after each commit,
 * and 'live' then too and when another hub process says its alerts changed (the server relays
 * them): the operators' live panels follow 'live'.
 */
export class AlertService extends EventEmitter<{ change: [AlertRecord]; live: [] }> {
  private timer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  /** The sweep asked for while one ran: it starts once that one ends (see sweep()). */
  private nextSweep: Promise<void> | undefined;
  private delivering: Promise<void> | undefined;
  private redeliver = false;
  private stopped = false;
  private readonly secret: string | undefined;
  private readonly log: Logger;
  readonly now: () => Date;

  constructor(private readonly deps: AlertServiceDeps) {
    super();
    this.setMaxListeners(0);
    this.now = deps.now ?? (() => new Date());
    this.log = deps.logger.child({ component: 'alerts' });
    this.secret = deps.config.webhook ? webhookSecret(deps.config.webhook) : undefined;
  }

  /** Registers the kiosk event handlers (door, tamper, clock skew). */
  attach(): void {
    const { kiosks, config } = this.deps;
    kiosks.onEvent('TamperDetected', async (e, tx) => {
      await this.raise(tx, {
        kind: 'tamper',
        key: e.kioskId,
        kioskId: e.kioskId,
        message: `kiosk ${e.kioskId}: tamper input ${e.data.input} fired at ${e.at}`,
        details: { input: e.data.input, eventId: e.eventId },
      });
    });
    kiosks.onEvent('DoorChanged', async (e, tx) => {
      if (!e.data.open) return this.clear(tx, 'door_open', e.kioskId);
      const k = await tx.kiosks.get(e.kioskId);
      const since = Date.parse(e.at) - config.technicianWindowSeconds * 1000;
      const recent = await tx.events.listForKiosk(e.kioskId, {
        afterSeq: Math.max(0, (k?.lastSeq ?? e.seq) - 200),
        limit: 200,
      });
      const technician = recent.find(
        (x) => x.type === 'TechnicianAction' && x.seq < e.seq && Date.parse(x.at) >= since,
      );
      if (technician) return;
      await this.raise(tx, {
        kind: 'door_open',
        key: e.kioskId,
        kioskId: e.kioskId,
        message: `kiosk ${e.kioskId}: the service door opened at ${e.at} with no technician at work`,
        details: { eventId: e.eventId },
      });
    });
    kiosks.onEvent('*', async (e, tx) => {
      const aheadMs = Date.parse(e.at) - this.now().getTime();
      if (aheadMs > config.clockSkewSeconds * 1000)
        await this.raise(tx, {
          kind: 'clock_skew',
          key: e.kioskId,
          kioskId: e.kioskId,
          message: `kiosk ${e.kioskId}'s clock is ${Math.round(aheadMs / 1000)} s ahead of the hub's`,
          details: { eventAt: e.at, aheadSeconds: Math.round(aheadMs / 1000) },
        });
      else if ((await tx.alerts.live(`clock_skew:${e.kioskId}`)) !== undefined)
        await this.clear(tx, 'clock_skew', e.kioskId);
    });
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.tick(), this.deps.config.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
    this.timer = undefined;
    while (this.sweeping || this.nextSweep) await (this.nextSweep ?? this.sweeping);
    await this.delivering;
  }

  /**
   * One tick soon (within 5 s), once for any number of calls before it runs: a kiosk
   * back online is looked at promptly, and 1,000 kiosks reconnecting after a restart cost one
   * sweep instead of back-to-back sweeps over the whole fleet that hold the store while their
   * Boots wait (bench:hub: 3 kiosks a second booted with 10,000 kiosks registered).
   */
  soon(): void {
    if (this.stopped || this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.tick();
    }, SOON_MS);
    this.soonTimer.unref();
  }

  /**
   * One sweep then one delivery pass; errors are logged (the next tick tries again). A tick
   * while a sweep runs waits for that one rather than asking for another: the ticks of a slow
   * store do not queue back-to-back sweeps.
   */
  async tick(): Promise<void> {
    if (this.stopped) return;
    await (this.sweeping ?? this.sweep()).catch((err) =>
      this.log.error({ err }, 'alert sweep failed'),
    );
    await this.deliverDue().catch((err) => this.log.error({ err }, 'webhook delivery failed'));
  }

  /**
   * Looks at the facts once: raises and resolves the swept kinds, and re-tells open alerts whose
   * last notice is older than `renotifyIntervalSeconds`. One sweep at a time, and the look
   * starts after the call: asked for while one runs, it is the next sweep, started when that
   * one ends and shared by every caller meanwhile. The running one may have read the facts
   * before the caller's change: an operator who resolved an alert while a sweep ran would
   * otherwise get that sweep, which refreshed the alert before the resolve and so opens no
   * new one for the cause still there.
   */
  sweep(): Promise<void> {
    if (this.sweeping) {
      const after = () => {
        this.nextSweep = undefined;
        return this.sweep();
      };
      this.nextSweep ??= this.sweeping.then(after, after);
      return this.nextSweep;
    }
    this.sweeping = this.doSweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async doSweep(): Promise<void> {
    const { store, kiosks, catalog, config } = this.deps;
    const now = this.now();
    const findings = await store.transaction((tx) =>
      sweepFindings(tx, { config, kiosks, catalog, now }),
    );
    for (const kind of SWEPT_KINDS)
      await this.reconcile(
        kind,
        findings.filter((f) => f.kind === kind),
      );
    const due = now.getTime() - config.renotifyIntervalSeconds * 1000;
    await store.transaction(async (tx) => {
      for (const a of await tx.alerts.listLive()) {
        if (a.state !== 'open' || Date.parse(a.notifiedAt ?? a.openedAt) > due) continue;
        await this.tell(tx, a, 'reminder');
      }
    });
  }

  /**
   * Makes the live alerts of `kind` match `findings`: opens (or refreshes) one per finding and
   * resolves, as `system:alerts`, every live alert of that kind that was not found.
   */
  async reconcile(kind: AlertKind, findings: readonly Finding[]): Promise<void> {
    await this.deps.store.transaction(async (tx) => {
      const found = new Set<string>();
      for (const f of findings) {
        found.add(`${f.kind}:${f.key}`);
        await this.raise(tx, f);
      }
      for (const a of await tx.alerts.listLive(kind))
        if (!found.has(a.dedupeKey)) await this.close(tx, a, AUTO);
    });
  }

  /** Opens the alert of `f` inside `tx`, or refreshes the live one (no new notice). */
  async raise(tx: Tx, f: Finding): Promise<AlertRecord> {
    const at = this.now().toISOString();
    const { alert, created } = await tx.alerts.raise({
      kind: f.kind,
      dedupeKey: `${f.kind}:${f.key}`,
      kioskId: f.kioskId,
      severity: ALERT_KINDS[f.kind].severity,
      message: f.message,
      details: f.details ?? null,
      at,
    });
    if (created) {
      this.log.warn({ alertId: alert.id, kind: f.kind, key: f.key }, f.message);
      await audit(tx, AUTO, at, 'alert.opened', String(alert.id), { kind: f.kind, key: f.key });
      await this.tell(tx, alert, 'opened');
    }
    return alert;
  }

  /** Resolves the live alert of `kind` for `key` as `system:alerts` (the fact cleared), if any. */
  async clear(tx: Tx, kind: AlertKind, key: string): Promise<void> {
    const a = await tx.alerts.live(`${kind}:${key}`);
    if (a) await this.close(tx, a, AUTO);
  }

  /** An operator acknowledges an open alert (audited). NOT_FOUND; CONFLICT if it is not open. */
  async acknowledge(id: number, who: Actor): Promise<AlertRecord> {
    return this.deps.store.transaction(async (tx) => {
      const a = await this.mustGet(tx, id);
      const at = this.now().toISOString();
      if (!(await tx.alerts.acknowledge(id, who.actor, at)))
        throw new AlertStateError(
          `alert ${id} is ${a.state}: only an open alert can be acknowledged`,
        );
      await audit(tx, who, at, 'alert.acknowledged', String(id), { kind: a.kind });
      const after = (await tx.alerts.get(id))!;
      await this.tell(tx, after, 'acknowledged');
      return after;
    });
  }

  /** An operator resolves a live alert (audited). A cause still there opens a new alert at the next sweep. */
  async resolve(id: number, who: Actor): Promise<AlertRecord> {
    return this.deps.store.transaction(async (tx) => {
      const a = await this.mustGet(tx, id);
      if (a.state === 'resolved')
        throw new AlertStateError(`alert ${id} is already resolved (by ${a.resolvedBy})`);
      return this.close(tx, a, who);
    });
  }

  list(states: readonly AlertState[], limit: number): Promise<AlertRecord[]> {
    return this.deps.store.transaction((tx) => tx.alerts.list(states, limit));
  }

  get(id: number): Promise<AlertRecord> {
    return this.deps.store.transaction((tx) => this.mustGet(tx, id));
  }

  private async mustGet(tx: Tx, id: number): Promise<AlertRecord> {
    const a = await tx.alerts.get(id);
    if (!a) throw new NotFoundError(`alert ${id} does not exist`);
    return a;
  }

  private async close(tx: Tx, a: AlertRecord, who: Actor): Promise<AlertRecord> {
    const at = this.now().toISOString();
    await tx.alerts.resolve(a.id, who.actor, at);
    await audit(tx, who, at, 'alert.resolved', String(a.id), { kind: a.kind });
    const after = (await tx.alerts.get(a.id))!;
    this.log.info({ alertId: a.id, kind: a.kind, by: who.actor }, `alert resolved: ${a.message}`);
    await this.tell(tx, after, 'resolved');
    return after;
  }

  /**
   * Tells operators about `alert` (`event`): queues the webhook delivery in `tx`, and after the
   * commit mails `emailTo` and emits 'change'.
   */
  private async tell(tx: Tx, alert: AlertRecord, event: AlertEvent): Promise<void> {
    const at = this.now().toISOString();
    if (event === 'opened' || event === 'reminder') await tx.alerts.markNotified(alert.id, at);
    if (this.deps.config.webhook)
      await tx.alerts.enqueueDelivery({
        alertId: alert.id,
        event,
        body: { event, at, alert: alertView(alert) },
        at,
      });
    tx.afterCommit(() => {
      this.emit('change', alert);
      this.emit('live');
      if (this.deps.config.webhook) this.kickDelivery();
      if (this.deps.config.emailTo.length > 0 && event !== 'acknowledged')
        this.deps.mailer
          .send(alertMail(alert, event, this.deps.config.emailTo))
          .catch((err) =>
            this.log.warn(
              { alertId: alert.id, err: (err as Error).message },
              'alert mail not sent',
            ),
          );
    });
  }

  private kickDelivery(): void {
    if (this.stopped) return;
    if (this.delivering) {
      this.redeliver = true;
      return;
    }
    void this.deliverDue().catch((err) => this.log.error({ err }, 'webhook delivery failed'));
  }

  /** Sends the webhook deliveries that are due, oldest first; one pass at a time. */
  deliverDue(): Promise<void> {
    if (!this.deps.config.webhook || !this.secret) return Promise.resolve();
    this.delivering ??= this.doDeliver().finally(() => {
      this.delivering = undefined;
      if (this.redeliver && !this.stopped) {
        this.redeliver = false;
        this.kickDelivery();
      }
    });
    return this.delivering;
  }

  private async doDeliver(): Promise<void> {
    const config = this.deps.config.webhook!;
    const { store } = this.deps;
    const due = await store.transaction((tx) =>
      tx.alerts.dueDeliveries(this.now().toISOString(), 100),
    );
    for (const d of due) {
      if (this.stopped) return;
      const attempts = d.attempts + 1;
      try {
        await postWebhook(config, this.secret!, d.id, JSON.stringify(d.body), this.now().getTime());
        await store.transaction((tx) => tx.alerts.deliveryDone(d.id, this.now().toISOString()));
      } catch (err) {
        const error = (err as Error).message.slice(0, 500);
        const nowMs = this.now().getTime();
        const giveUp = attempts >= config.maxAttempts;
        this.log.warn(
          { deliveryId: d.id, alertId: d.alertId, attempts, error, giveUp },
          giveUp ? 'alert webhook given up' : 'alert webhook failed; will retry',
        );
        await store.transaction((tx) =>
          tx.alerts.deliveryFailed(d.id, {
            attempts,
            error,
            nextAttemptAt: new Date(nowMs + retryDelayMs(attempts)).toISOString(),
            failedAt: giveUp ? new Date(nowMs).toISOString() : null,
          }),
        );
      }
    }
  }
}

/** ALERT_STATE (409): the alert is not in a state that allows the change asked for. */
export class AlertStateError extends ConflictError {
  constructor(message: string) {
    super('ALERT_STATE', message);
    this.name = 'AlertStateError';
  }
}

/** The alert as the API, the webhook and /ops show it. */
export function alertView(a: AlertRecord) {
  return {
    id: a.id,
    kind: a.kind,
    key: a.dedupeKey,
    kioskId: a.kioskId,
    severity: a.severity,
    message: a.message,
    details: a.details,
    state: a.state,
    openedAt: a.openedAt,
    lastSeenAt: a.lastSeenAt,
    acknowledgedAt: a.acknowledgedAt,
    acknowledgedBy: a.acknowledgedBy,
    resolvedAt: a.resolvedAt,
    resolvedBy: a.resolvedBy,
    notifyCount: a.notifyCount,
  };
}

const EVENT_WORD: Record<AlertEvent, string> = {
  opened: 'ALERT',
  reminder: 'STILL OPEN',
  acknowledged: 'acknowledged',
  resolved: 'resolved',
};

/** The operators' e-mail about an alert change. */
export function alertMail(a: AlertRecord, event: AlertEvent, to: string[]) {
  const kind = ALERT_KINDS[a.kind as AlertKind];
  return {
    to,
    subject: `[${EVENT_WORD[event]}] ${a.severity}: ${a.message}`.slice(0, 200),
    text:
      `${a.message}\n\n` +
      `Alert ${a.id} (${a.kind}) is ${a.state}${a.resolvedBy ? ` (resolved by ${a.resolvedBy})` : ''}.\n` +
      `Opened ${a.openedAt}; last seen ${a.lastSeenAt}.\n` +
      (kind ? `Cause: ${kind.cause}.\nResolves: ${kind.resolves}.\n` : '') +
      (a.details ? `\nDetails: ${JSON.stringify(a.details, null, 2)}\n` : '') +
      '\nAcknowledge it on the operations page (/ops) to stop the reminders.\n',
    headers: { 'X-Disk-Kiosk-Alert': `${a.id} ${event}` },
  };
}
