import type { AlertService } from '../alerts/alert-service.js';
import type { Finding } from '../alerts/rules.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import { checkInvariants, type Violation } from './invariants.js';
import { loadInvariantFacts } from './load-facts.js';

export interface InvariantJobDeps {
  store: Store;
  alerts: AlertService;
  logger: Logger;
  intervalSeconds: number;
  authorisationMaxAgeHours: number;
  now?: () => Date;
}

/** Runs the invariants over the store once (what `cloud-lite check` and the job share). */
export async function runInvariants(
  store: Store,
  opts: { now: Date; authorisationMaxAgeHours: number },
): Promise<Violation[]> {
  const facts = await store.transaction((tx) => loadInvariantFacts(tx, opts.now));
  return checkInvariants(facts, {
    now: opts.now,
    authorisationMaxAgeMs: opts.authorisationMaxAgeHours * 3600_000,
  });
}

/** The alert of one violation: its key is the invariant and the ids, so it stays one alert while it lasts. */
export function violationFinding(v: Violation): Finding {
  const ids = Object.entries(v.ids)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, x]) => `${k}=${x}`)
    .join(',');
  const kioskId = typeof v.ids.kioskId === 'string' ? v.ids.kioskId : null;
  return {
    kind: 'invariant_violation',
    key: `${v.invariant}:${ids}`,
    kioskId,
    message: `invariant ${v.invariant} broken: ${v.message} (${ids})`,
    details: { invariant: v.invariant, ids: v.ids },
  };
}

/**
 * The live invariant checker: every `intervalSeconds` it runs the invariants over the store
 * and makes the `invariant_violation` alerts match what it found (new ones opened, cleared ones
 * resolved). `run()` runs it once now.
 */
export class InvariantJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<Violation[]> | undefined;
  constructor(private readonly deps: InvariantJobDeps) {}

  start(): void {
    if (this.deps.intervalSeconds <= 0) return;
    this.timer = setInterval(
      () =>
        void this.run().catch((err) => this.deps.logger.error({ err }, 'invariant check failed')),
      this.deps.intervalSeconds * 1000,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  run(): Promise<Violation[]> {
    this.running ??= this.doRun().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async doRun(): Promise<Violation[]> {
    const { store, alerts } = this.deps;
    const violations = await runInvariants(store, {
      now: (this.deps.now ?? (() => new Date()))(),
      authorisationMaxAgeHours: this.deps.authorisationMaxAgeHours,
    });
    if (violations.length > 0)
      this.deps.logger.error({ violations }, `${violations.length} invariant violations`);
    await alerts.reconcile('invariant_violation', violations.map(violationFinding));
    return violations;
  }
}
