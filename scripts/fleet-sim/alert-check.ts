/**
 * The alerts the hub raised during the run (its `alerts` table, read from the hub database
 * snapshot: the SQLite file, or PostgreSQL's tables copied into one) against the faults the
 * injector caused: alerts by kind, for each fault whether the alert it should raise was
 * raised (same kiosk, overlapping time window), the faults that should have raised one and
 * did not (violation `fault-alerted`), and the alerts of fault-caused kinds no fault explains.
 *
 * Which fault should raise which alert follows the rules in cloud-lite/alerts/rules.ts:
 * - kiosk down (kioskd SIGKILLed, restarted with its clock in the past, killed mid-dispense, or
 *   its link cut) for `OFFLINE_EXPECTED_MS` or more -> `kiosk_offline`: the hub sees the link
 *   closed at once, the kiosk is silent longer than `alerts.offlineAfterSeconds` (fleet-sim sets
 *   2 s), and the sweep runs every second. Shorter ones may raise it or not (kioskd's restart
 *   time decides), so they expect none and an alert they raise still counts as caused.
 * - a slot-board or disk fault after which the hub recorded a FaultRaised for that kiosk (and
 *   slot, when the fault names one) and the slot stayed in fault `SLOT_FAULT_MIN_MS` -> `slot_fault`.
 * - no fault is expected to raise an alert while a hub process was down or restarting (the
 *   sweep does not run, and a restarted hub counts silence from its own start).
 */
import Database from 'better-sqlite3';
import type { Violation } from './checker.js';
import type { FaultKind, FaultLogEntry } from './faults.js';

/** The hub's alert settings fleet-sim runs with (world.ts puts them in the hub's config). */
export const SIM_ALERTS = { offlineAfterSeconds: 2, sweepIntervalMs: 1000 };
/** Down this long: the kiosk is certainly silent past the threshold at a sweep. */
export const OFFLINE_EXPECTED_MS = 4000;
/** A slot in fault this long: a sweep certainly saw it. */
const SLOT_FAULT_MIN_MS = 2 * SIM_ALERTS.sweepIntervalMs + 500;
/** A hub back this long ago may still be waiting for its kiosks. */
const HUB_SETTLE_MS = 20_000;
/**
 * Until when a hub fault may leave kiosks unwatched or slow to come back: HUB_SETTLE_MS after
 * the process answered again (its start can take tens of seconds on a loaded machine), or after
 * its planned downtime when the run ended before it was back.
 */
const hubSettledAt = (f: FaultLogEntry) => (f.upAt ?? f.at + (f.downMs ?? 6000)) + HUB_SETTLE_MS;

const KIOSK_DOWN: ReadonlySet<FaultKind> = new Set([
  'kioskd_sigkill',
  'kioskd_clock_past',
  'kioskd_dies_mid_dispense',
  'net_cut',
]);
const BOARD: ReadonlySet<FaultKind> = new Set([
  'board_jam',
  'board_lost_reply',
  'board_corrupt_reply',
  'board_reset',
  'board_unplug',
  'disk_lost_mid_prepare',
]);
const HUB_DOWN: ReadonlySet<FaultKind> = new Set(['hub_restart', 'hub_kill']);

/** Why a fault raises no alert by design (when nothing it caused did). */
const NO_ALERT_REASON: Partial<Record<FaultKind, string>> = {
  net_stall:
    'the link stays open; the hub may or may not drop it by ping before the stall ends, and the kiosk is back within seconds',
  board_lost_reply: "kioskd's retry absorbs a lost reply or ACK: no slot fault reached the hub",
  board_corrupt_reply: "kioskd's retry absorbs a corrupted frame: no slot fault reached the hub",
  board_reset: 'kioskd re-syncs a reset board: no slot fault reached the hub',
  board_unplug:
    'kioskd reopens the serial adapter in the background: no slot fault reached the hub',
  board_jam: 'the jammed slot did not move again before the end, so no FaultRaised reached the hub',
  disk_lost_mid_prepare:
    'the failed preparation did not fault the slot; one PrepareFailed is below alerts.prepareFailureThreshold',
  hub_restart: 'the hub itself was down: it cannot alert about itself',
  hub_kill: 'another hub process took over: nothing an operator must act on',
};

/** Alert kinds an injected fault can cause (the others come from the renters' activity). */
const FAULT_CAUSED_KINDS = new Set(['kiosk_offline', 'slot_fault']);

export interface SimAlert {
  id: number;
  kind: string;
  kioskId: string | null;
  message: string;
  openedAt: number;
  resolvedAt: number | null;
  slot?: number;
}

export interface FaultAlertLine {
  at: number;
  kind: FaultKind;
  target: string;
  detail: string;
  /** The alert kind this fault should have raised, or null when none is expected. */
  expected: string | null;
  /** Ids of the alerts matched to it (raised by it, or live across its window). */
  alertIds: number[];
  /** Why none is expected, or what was looked for. */
  note: string;
}

export interface AlertReport {
  byKind: Record<string, number>;
  faults: FaultAlertLine[];
  /** Faults that should have raised an alert and did not. */
  missing: FaultAlertLine[];
  /** Alerts of the fault-caused kinds that no injected fault explains. */
  uncaused: SimAlert[];
  /** Faults whose expected alert was raised. */
  matched: number;
  /** Alerts matched to a fault that caused them (expected or not). */
  caused: number;
}

const ms = (iso: unknown) => (typeof iso === 'string' ? Date.parse(iso) : Number.NaN);
const slotOf = (detail: string) => {
  const m = /^slot (\d+)/.exec(detail);
  return m ? Number(m[1]) : undefined;
};

export function checkAlerts(
  hubDbPath: string,
  injected: FaultLogEntry[],
  endMs: number,
  /** Links the renter bots cut for an offline pickup (8-20 s): kiosk_offline expected too. */
  linkCuts: Array<{ at: number; kioskId: string; ms: number }> = [],
  /**
   * Hub processes (--hubs): with more than one, a `net_cut` cuts only the kiosk's proxy to its
   * first process; the kiosk reaches another by its next URL (`hub.urls`) at once, so no outage
   * and no kiosk_offline is expected of it.
   */
  hubs = 1,
): { report: AlertReport; violations: Violation[] } {
  const faults: FaultLogEntry[] = [
    ...injected,
    ...linkCuts.map((c) => ({
      at: c.at,
      kind: 'net_cut' as const,
      target: c.kioskId,
      detail: 'offline pickup (renter bot)',
      downMs: c.ms,
    })),
  ].sort((a, b) => a.at - b.at);
  const db = new Database(hubDbPath, { readonly: true, fileMustExist: true });
  let alerts: SimAlert[];
  let slotEvents: Array<{ kioskId: string; type: string; slot?: number; at: number }>;
  try {
    alerts = (
      db
        .prepare(
          'SELECT id, kind, kiosk_id, message, details, opened_at, resolved_at FROM alerts ORDER BY id',
        )
        .all() as Array<Record<string, unknown>>
    ).map((r) => {
      const details = typeof r.details === 'string' ? JSON.parse(r.details) : null;
      const resolved = ms(r.resolved_at);
      return {
        id: Number(r.id),
        kind: String(r.kind),
        kioskId: (r.kiosk_id as string | null) ?? null,
        message: String(r.message),
        openedAt: ms(r.opened_at),
        resolvedAt: Number.isNaN(resolved) ? null : resolved,
        ...(typeof details?.slot === 'number' ? { slot: details.slot as number } : {}),
      };
    });
    slotEvents = (
      db
        .prepare(
          "SELECT kiosk_id, type, data, received_at FROM events WHERE type IN ('FaultRaised', 'FaultCleared') ORDER BY received_at",
        )
        .all() as Array<Record<string, unknown>>
    ).map((r) => {
      const data = JSON.parse(String(r.data)) as { slot?: number };
      return {
        kioskId: String(r.kiosk_id),
        type: String(r.type),
        at: ms(r.received_at),
        ...(data.slot !== undefined ? { slot: data.slot } : {}),
      };
    });
  } finally {
    db.close();
  }
  const hubDown = faults
    .filter((f) => HUB_DOWN.has(f.kind))
    .map((f) => [f.at, hubSettledAt(f)] as const);
  const hubDownDuring = (from: number, to: number) =>
    hubDown.some(([a, b]) => a <= to && b >= from);
  // An alert live at some moment of [from, to].
  const live = (a: SimAlert, from: number, to: number) =>
    a.openedAt <= to && (a.resolvedAt ?? endMs) >= from;
  const caused = new Set<number>();
  const lines: FaultAlertLine[] = [];
  for (const f of faults) {
    const line: FaultAlertLine = {
      at: f.at,
      kind: f.kind,
      target: f.target,
      detail: f.detail,
      expected: null,
      alertIds: [],
      note: NO_ALERT_REASON[f.kind] ?? 'no alert rule covers it',
    };
    if (KIOSK_DOWN.has(f.kind)) {
      const down = f.downMs ?? 0;
      // The kiosk is back some seconds after `down` (kioskd starts, reconnects, Boots).
      const to = f.at + down + 15_000;
      const matches = alerts.filter(
        (a) =>
          a.kind === 'kiosk_offline' &&
          a.kioskId === f.target &&
          a.openedAt >= f.at &&
          a.openedAt <= to,
      );
      line.alertIds = matches.map((a) => a.id);
      for (const a of matches) caused.add(a.id);
      if (f.kind === 'net_cut' && hubs > 1)
        line.note =
          "only the link to the kiosk's first hub process was cut: it reconnects to another by its next URL";
      else if (hubDownDuring(f.at - 1000, f.at + down + 2000))
        line.note = 'a hub process was down or restarting meanwhile: no sweep saw the kiosk silent';
      else if (down < OFFLINE_EXPECTED_MS)
        line.note = `down ${down} ms, under ${OFFLINE_EXPECTED_MS} ms: silent past alerts.offlineAfterSeconds (${SIM_ALERTS.offlineAfterSeconds} s) at a sweep or not, by kioskd's restart time`;
      else {
        line.expected = 'kiosk_offline';
        line.note = `down ${down} ms > alerts.offlineAfterSeconds (${SIM_ALERTS.offlineAfterSeconds} s)`;
      }
    } else if (BOARD.has(f.kind)) {
      const slot = slotOf(f.detail);
      // A jam strikes at the slot's next motion, whenever it comes; the others at once.
      const until = f.kind === 'board_jam' ? endMs : f.at + 15_000;
      const raised = slotEvents.find(
        (e) =>
          e.type === 'FaultRaised' &&
          e.kioskId === f.target &&
          e.slot !== undefined &&
          (slot === undefined || e.slot === slot) &&
          e.at >= f.at &&
          e.at <= until,
      );
      if (raised) {
        const cleared =
          slotEvents.find(
            (e) =>
              e.type === 'FaultCleared' &&
              e.kioskId === f.target &&
              e.slot === raised.slot &&
              e.at >= raised.at,
          )?.at ?? endMs;
        const matches = alerts.filter(
          (a) =>
            a.kind === 'slot_fault' &&
            a.kioskId === f.target &&
            a.slot === raised.slot &&
            live(a, raised.at - 1000, cleared + 2000),
        );
        line.alertIds = matches.map((a) => a.id);
        for (const a of matches) caused.add(a.id);
        if (cleared - raised.at < SLOT_FAULT_MIN_MS)
          line.note = `slot ${raised.slot} left fault after ${cleared - raised.at} ms, before a sweep could see it`;
        else if (hubDownDuring(raised.at, cleared))
          line.note = 'a hub process was down or restarting while the slot was in fault';
        else {
          line.expected = 'slot_fault';
          line.note = `FaultRaised for slot ${raised.slot}, in fault ${Math.round((cleared - raised.at) / 1000)} s`;
        }
      }
    } else if (f.kind === 'net_stall') {
      // A stall the hub's ping noticed closes the link: an offline alert it raised is caused.
      for (const a of alerts)
        if (
          a.kind === 'kiosk_offline' &&
          a.kioskId === f.target &&
          a.openedAt >= f.at &&
          a.openedAt <= f.at + (f.downMs ?? 6000) + 15_000
        ) {
          line.alertIds.push(a.id);
          caused.add(a.id);
        }
    } else if (HUB_DOWN.has(f.kind)) {
      // Kiosks slow to reconnect to the restarted hub may be reported offline: caused by it.
      for (const a of alerts)
        if (a.kind === 'kiosk_offline' && a.openedAt >= f.at && a.openedAt <= hubSettledAt(f)) {
          line.alertIds.push(a.id);
          caused.add(a.id);
        }
    }
    lines.push(line);
  }
  const byKind: Record<string, number> = {};
  for (const a of alerts) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
  const missing = lines.filter((l) => l.expected && l.alertIds.length === 0);
  const report: AlertReport = {
    byKind,
    faults: lines,
    missing,
    uncaused: alerts.filter((a) => FAULT_CAUSED_KINDS.has(a.kind) && !caused.has(a.id)),
    matched: lines.filter((l) => l.expected && l.alertIds.length > 0).length,
    caused: caused.size,
  };
  const violations: Violation[] = missing.map((l) => ({
    invariant: 'fault-alerted',
    message: `${l.kind} (${l.detail}) on ${l.target} should have raised ${l.expected} and did not (${l.note})`,
    ids: { target: l.target, faultAt: new Date(l.at).toISOString() },
  }));
  return { report, violations };
}
