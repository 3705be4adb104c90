/**
 * A kiosk's update history for the operator (GET /api/operator/kiosks/:id/updates, /ops):
 * its UpdateStatus events, newest first, with the progress of one step collapsed into its
 * latest report (a download reports its percent many times; the operator wants one line).
 */
import { NotFoundError } from '../errors.js';
import type { EventRecord, Store } from '../store/types.js';

export interface UpdateHistoryEntry {
  at: string;
  version: string;
  fromVersion: string;
  state: string;
  percent?: number;
  code?: string;
  reason?: string;
  commandId?: string;
}

/** States a kiosk reports repeatedly while they last. */
const PROGRESS = new Set(['downloading', 'waiting', 'installing']);
/** Events read per request: enough for the last few dozen updates with their progress. */
const SCAN = 1000;

export async function updateHistory(
  store: Store,
  kioskId: string,
  limit = 100,
): Promise<{ softwareVersion: string | null; history: UpdateHistoryEntry[] }> {
  const { kiosk, events } = await store.transaction(async (tx) => ({
    kiosk: await tx.kiosks.get(kioskId),
    events: await tx.events.latestOfType(kioskId, 'UpdateStatus', SCAN),
  }));
  if (!kiosk) throw new NotFoundError(`kiosk ${kioskId} does not exist`);
  return { softwareVersion: kiosk.softwareVersion, history: collapse(events).slice(0, limit) };
}

/** Newest first in, newest first out; only the newest report of each progress step is kept. */
export function collapse(events: readonly EventRecord[]): UpdateHistoryEntry[] {
  const seen = new Set<string>();
  const out: UpdateHistoryEntry[] = [];
  for (const e of events) {
    const d = e.data as Partial<Record<string, unknown>>;
    if (typeof d.version !== 'string' || typeof d.state !== 'string') continue;
    const attempt = typeof d.commandId === 'string' ? d.commandId : `local:${d.version}`;
    if (PROGRESS.has(d.state)) {
      const key = `${attempt}|${d.state}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push({
      at: e.at,
      version: d.version,
      fromVersion: typeof d.fromVersion === 'string' ? d.fromVersion : '',
      state: d.state,
      ...(typeof d.percent === 'number' ? { percent: d.percent } : {}),
      ...(typeof d.code === 'string' ? { code: d.code } : {}),
      ...(typeof d.reason === 'string' ? { reason: d.reason } : {}),
      ...(typeof d.commandId === 'string' ? { commandId: d.commandId } : {}),
    });
  }
  return out;
}
