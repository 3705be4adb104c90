/**
 * Software rollouts (cloud-lite/updates/): one row per rollout of an image version to a set
 * of kiosks in waves, and one row per kiosk of it with where its update stands.
 */

export type RolloutState = 'running' | 'halted' | 'completed' | 'cancelled';

/**
 * A kiosk's update within a rollout: `pending` (not sent yet: its wave has not started, or it
 * is offline), `sent` (InstallUpdate recorded for it), then the kiosk's UpdateStatus states,
 * ending in `committed`, `failed` or `rolled_back`.
 */
export type RolloutKioskState =
  | 'pending'
  | 'sent'
  | 'downloading'
  | 'waiting'
  | 'installing'
  | 'rebooting'
  | 'trial'
  | 'committed'
  | 'failed'
  | 'rolled_back';

export interface RolloutRecord {
  id: string;
  version: string;
  bundleSha256: string;
  bundleSize: number;
  /** Cumulative kiosk counts: wave i covers the first waves[i] kiosks of the rollout. */
  waves: number[];
  /** What the operator asked for, e.g. `["1", "10%", "100%"]`. */
  waveSpec: string[];
  /** A wave whose failures exceed this share of it halts the rollout (0..1). */
  maxFailureRate: number;
  /** How long a kiosk has to start installing once sent (the InstallUpdate deadline). */
  installWindowSeconds: number;
  /** Index into `waves` of the wave under way. */
  currentWave: number;
  state: RolloutState;
  /** Why it halted or ended. */
  reason: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface RolloutKioskRecord {
  rolloutId: string;
  kioskId: string;
  /** Place in the rollout's order (0-based); the wave follows from it. */
  position: number;
  wave: number;
  state: RolloutKioskState;
  commandId: string | null;
  /** InstallUpdate commands sent for it (a command that expired undelivered is sent again). */
  attempts: number;
  /** The version the kiosk ran when it began (from its UpdateStatus). */
  fromVersion: string | null;
  code: string | null;
  reason: string | null;
  updatedAt: string;
}

export interface RolloutRepo {
  insert(r: RolloutRecord, kiosks: RolloutKioskRecord[]): Promise<void>;
  get(id: string): Promise<RolloutRecord | undefined>;
  /** Newest first. */
  list(limit: number): Promise<RolloutRecord[]>;
  /** Rollouts running or halted (at most one, by the domain's rule). */
  listOpen(): Promise<RolloutRecord[]>;
  update(
    id: string,
    patch: Partial<Pick<RolloutRecord, 'state' | 'reason' | 'currentWave' | 'updatedAt'>>,
  ): Promise<void>;
  kiosks(rolloutId: string): Promise<RolloutKioskRecord[]>;
  kioskByCommand(commandId: string): Promise<RolloutKioskRecord | undefined>;
  updateKiosk(
    rolloutId: string,
    kioskId: string,
    patch: Partial<
      Pick<
        RolloutKioskRecord,
        'state' | 'commandId' | 'attempts' | 'fromVersion' | 'code' | 'reason' | 'updatedAt'
      >
    >,
  ): Promise<void>;
}
