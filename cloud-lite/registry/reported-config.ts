/**
 * What a kiosk says about the remote configuration it runs (Boot, Heartbeat, ConfigApplied),
 * recorded only when the hub issued that version. The version sequence is the hub's own
 * (docs/remote-operations.md): a report above the highest version issued (a forged or buggy
 * kiosk, a kiosk claiming 2^53, or a hub restored from an older backup) is not recorded and
 * never moves the sequence; it is logged and raises the operator flag
 * KIOSK_CONFIG_VERSION_UNKNOWN for that kiosk.
 */
import type { Logger } from '../log.js';
import type { Tx } from '../store/types.js';

/** The flag raised for a kiosk that reports a configuration version this hub never issued. */
export const KIOSK_CONFIG_VERSION_UNKNOWN = 'KIOSK_CONFIG_VERSION_UNKNOWN';

/** Records `kioskId`'s applied version from `source`; false (logged, flagged) when refused. */
export async function recordReportedConfig(
  tx: Tx,
  logger: Logger,
  kioskId: string,
  source: 'Boot' | 'Heartbeat' | 'ConfigApplied',
  r: { version: number; restartPending: boolean; at: string },
): Promise<boolean> {
  if (await tx.remoteConfig.reportApplied(kioskId, r)) return true;
  const highest = await tx.remoteConfig.highestIssued();
  const message =
    `kiosk ${kioskId} reports remote configuration version ${r.version} (${source}), above the ` +
    `highest this hub issued (${highest}): ignored. A forged or faulty kiosk, or a hub restored ` +
    `from an older backup: the kiosk refuses lower versions as stale until its ` +
    '<dataDir>/remote-config.json is removed (kioskd restarted)';
  logger.warn(
    { kioskId, reportedVersion: r.version, highestIssued: highest, source },
    'a kiosk reports a configuration version this hub never issued: ignored',
  );
  await tx.flags.raise(KIOSK_CONFIG_VERSION_UNKNOWN, kioskId, message, r.at);
  return false;
}
