/** The fleet-wide scope of remote settings; any other scope is a kiosk id. */
export const FLEET_SCOPE = '*';

/** The remote settings of one scope (the fleet default or one kiosk), as last changed. */
export interface RemoteConfigRecord {
  /** FLEET_SCOPE or a kiosk id. */
  scope: string;
  /** Setting key -> value (protocol/remote-config.ts REMOTE_SETTINGS). */
  settings: Record<string, unknown>;
  /** From one sequence for every scope: a kiosk's desired version is the larger of its two. */
  version: number;
  /** Audit actor of who changed it. */
  updatedBy: string;
  updatedAt: string;
}

/** What a kiosk last reported about itself: the remote configuration it runs, its cache use. */
export interface KioskReportedStateRecord {
  kioskId: string;
  /** The version in its overrides file (0: none). */
  appliedVersion: number;
  restartPending: boolean;
  /** The last version it refused, with why (ConfigRejected). */
  rejectedVersion: number | null;
  rejectedCode: string | null;
  rejectedReason: string | null;
  rejectedErrors: Array<{ key: string; message: string }> | null;
  cacheUsedBytes: number | null;
  cacheMaxBytes: number | null;
  reportedAt: string;
  /**
   * The protocol features the last ApplyConfig sent to it lacked: its settings needing them were
   * left out (null: none). A Boot listing one of them completes them (registry/remote-config.ts).
   */
  configLacking: string[] | null;
}

/** A kiosk's content cache use as its last Heartbeat reported it (the alerts sweep's cache_full). */
export type KioskCacheUse = Pick<
  KioskReportedStateRecord,
  'kioskId' | 'cacheUsedBytes' | 'cacheMaxBytes' | 'reportedAt'
>;

/** Remote configuration: settings per scope, and what each kiosk reported. */
export interface RemoteConfigRepo {
  get(scope: string): Promise<RemoteConfigRecord | undefined>;
  list(): Promise<RemoteConfigRecord[]>;
  /** Inserts or replaces the scope's settings. */
  put(rec: RemoteConfigRecord): Promise<void>;
  /**
   * The next version: one above the highest this hub issued (every scope's version). What
   * kiosks report never counts: a kiosk (or a forged or buggy report) cannot move the sequence.
   */
  nextVersion(): Promise<number>;
  /** The highest version this hub issued (0: none yet). */
  highestIssued(): Promise<number>;
  reported(kioskId: string): Promise<KioskReportedStateRecord | undefined>;
  listReported(): Promise<KioskReportedStateRecord[]>;
  /**
   * The cache use of every kiosk that reported both figures, a non-zero maximum among them, by
   * kiosk id; only those fields (the alerts sweep reads no refusal or lacking features).
   */
  listCacheUse(): Promise<KioskCacheUse[]>;
  /**
   * Records the version a kiosk runs (Boot, Heartbeat, ConfigApplied); clears a refusal of a
   * version not above it. A version above the highest this hub issued is not recorded: false
   * (the caller says so; registry/reported-config.ts).
   */
  reportApplied(
    kioskId: string,
    r: { version: number; restartPending: boolean; at: string },
  ): Promise<boolean>;
  /** Records a refused version (ConfigRejected). */
  reportRejected(
    kioskId: string,
    r: {
      version: number;
      code: string;
      reason: string;
      errors: Array<{ key: string; message: string }> | null;
      at: string;
    },
  ): Promise<void>;
  /**
   * Records the features the ApplyConfig being sent to the kiosk lacks (null: none). Only for a
   * kiosk that reported (its Boot's `config` is recorded first): no row, nothing written.
   */
  setConfigLacking(kioskId: string, features: string[] | null): Promise<void>;
  /** Records the kiosk's cache use (Heartbeat). */
  reportCache(
    kioskId: string,
    r: { usedBytes: number; maxBytes: number; at: string },
  ): Promise<void>;
}
