import { t } from '../i18n/i18n.js';
import type { OpsKiosk } from '../lib/types.js';

/** Counts of a kiosk's slots by state, and its faulted slots. */
export function slotSummary(k: OpsKiosk): { byState: Record<string, number>; faults: number } {
  const byState: Record<string, number> = {};
  let faults = 0;
  for (const s of k.slots ?? []) {
    byState[s.state] = (byState[s.state] ?? 0) + 1;
    if (s.state === 'fault' || s.fault) faults++;
  }
  return { byState, faults };
}

export function summaryText(byState: Record<string, number>): string {
  const parts = Object.entries(byState)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${n} ${t(`ops.slotState.${s}`, { defaultValue: s })}`);
  return parts.length ? parts.join(', ') : t('ops.noInventory');
}
