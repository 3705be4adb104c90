/** The fleet simulation's report: JSON shape and the printed summary. */

import type { AlertReport } from './alert-check.js';
import type { OpCounts } from './bots.js';
import type { Violation } from './checker.js';

export interface SimReport {
  seed: number;
  kiosks: number;
  renters: number;
  /** Greedy renter bots besides the renters. */
  greedy?: number;
  minutes: number;
  ok: boolean;
  ops: OpCounts;
  faults: Record<string, number>;
  faultLog: Array<{ at: number; kind: string; target: string; detail: string }>;
  unsettled: string[];
  violations: Violation[];
  stats: Record<string, number>;
  /** The alerts the hub raised, matched to the faults (times of faults: ms since the start). */
  alerts?: AlertReport;
  dir: string;
  durationSeconds: number;
  error?: string;
}

export function formatReport(r: SimReport): string {
  const lines = [
    '',
    `==== fleet-sim report (seed ${r.seed}: ${r.kiosks} kiosks, ${r.renters} renters + ${r.greedy ?? 0} greedy, ${r.minutes} min; ${r.durationSeconds} s) ====`,
    'operations (attempted / completed):',
    ...Object.entries(r.ops)
      .sort()
      .map(([k, c]) => `  ${k.padEnd(26)} ${String(c.attempted).padStart(5)} / ${c.completed}`),
    `faults injected: ${Object.values(r.faults).reduce((s, n) => s + n, 0)}`,
    ...Object.entries(r.faults)
      .sort()
      .map(([k, n]) => `  ${k.padEnd(26)} ${String(n).padStart(5)}`),
    'outcome (from the databases):',
    ...Object.entries(r.stats).map(([k, n]) => `  ${k.padEnd(26)} ${String(n).padStart(5)}`),
    ...alertLines(r.alerts),
    `invariant violations: ${r.violations.length}`,
    ...r.violations
      .slice(0, 50)
      .map((v) => `  [${v.invariant}] ${v.message.split('\n')[0]} ${JSON.stringify(v.ids)}`),
    ...(r.violations.length > 50
      ? [`  ... ${r.violations.length - 50} more (see the JSON report)`]
      : []),
    r.ok ? 'RESULT: OK (no violation)' : `RESULT: FAILED; working directory kept: ${r.dir}`,
    '',
  ];
  return lines.join('\n');
}

function alertLines(a: AlertReport | undefined): string[] {
  if (!a) return [];
  const at = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const expected = a.faults.filter((f) => f.expected).length;
  return [
    `alerts raised by the hub: ${Object.values(a.byKind).reduce((s, n) => s + n, 0)}`,
    ...Object.entries(a.byKind)
      .sort()
      .map(([k, n]) => `  ${k.padEnd(26)} ${String(n).padStart(5)}`),
    `faults that should raise an alert: ${expected}, raised: ${a.matched}; no alert expected: ${a.faults.length - expected}`,
    ...a.missing.map(
      (f) =>
        `  WITHOUT ALERT: ${f.kind} (${f.detail}) ${f.target} at ${at(f.at)}: expected ${f.expected} (${f.note})`,
    ),
    `alerts matched to the fault that caused them: ${a.caused}`,
    `alerts no injected fault explains: ${a.uncaused.length}`,
    ...a.uncaused
      .slice(0, 20)
      .map(
        (u) =>
          `  #${u.id} ${u.kind} ${u.kioskId ?? ''} opened ${new Date(u.openedAt).toISOString()}: ${u.message}`,
      ),
  ];
}
