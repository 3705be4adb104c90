/**
 * Every kind of alert, what raises it and what resolves it (docs/alerts-and-notifications.md
 * is written from the same sentences). `auto`: the hub resolves it when the fact clears.
 */
export const ALERT_KINDS = {
  kiosk_offline: {
    severity: 'critical',
    cause:
      'the kiosk has had no connection to the hub for longer than `alerts.offlineAfterSeconds`',
    resolves: 'when the kiosk is connected again',
  },
  slot_fault: {
    severity: 'warning',
    cause:
      "a slot is in `fault` in the hub's view of the kiosk (a jam, a sensor disagreement, a disk error)",
    resolves: 'when the slot leaves `fault` (a technician cleared it, or it was disabled)',
  },
  door_open: {
    severity: 'warning',
    cause:
      'the service door opened with no technician action on that kiosk within `alerts.technicianWindowSeconds` before',
    resolves: 'when the kiosk reports the door closed',
  },
  tamper: {
    severity: 'critical',
    cause: "the kiosk's tamper input fired",
    resolves: 'by an operator only (no fact says the cabinet is sound again)',
  },
  cache_full: {
    severity: 'warning',
    cause:
      "a kiosk's last Heartbeat reported its content cache fuller than `alerts.cacheFullPercent`",
    resolves: 'when a later Heartbeat reports it below',
  },
  zero_stock: {
    severity: 'warning',
    cause:
      'no online kiosk offering a disk type can dispense one now (zero rentable stock of the type)',
    resolves: 'when some online kiosk can dispense the type again',
  },
  order_stuck: {
    severity: 'warning',
    cause:
      'an order stayed in `created`, `authorised` or `dispensing` longer than `alerts.stuckOrderAfterSeconds`',
    resolves: 'when the order moves on',
  },
  authorisation_expiring: {
    severity: 'critical',
    cause:
      'a card authorisation has stayed open (neither captured nor voided) for `alerts.authorisationWarnAfterHours`: the provider will drop it soon',
    resolves: 'when it is captured or voided',
  },
  prepare_failures: {
    severity: 'warning',
    cause:
      'a kiosk reported `alerts.prepareFailureThreshold` PrepareFailed within `alerts.prepareFailureWindowSeconds`',
    resolves: 'when fewer failures fall within the window',
  },
  clock_skew: {
    severity: 'warning',
    cause: "a kiosk stamped an event more than `alerts.clockSkewSeconds` ahead of the hub's clock",
    resolves: 'at the next event of that kiosk stamped within the tolerance',
  },
  invariant_violation: {
    severity: 'critical',
    cause: 'the live invariant checker (cloud-lite/invariants/) found a violation',
    resolves: 'when a later run no longer finds it',
  },
} as const satisfies Record<
  string,
  { severity: 'warning' | 'critical'; cause: string; resolves: string }
>;

export type AlertKind = keyof typeof ALERT_KINDS;
export const ALERT_KIND_NAMES = Object.keys(ALERT_KINDS) as AlertKind[];
