/**
 * What the maintenance server may use: the daemon's own services, passed in once. The
 * server never creates hardware or opens the database itself, so kioskctl can never fight
 * kioskd over a device: every action goes through these objects.
 */
import type { Drives } from '../../hal/drives/types.js';
import type { Gpio } from '../../hal/gpio/types.js';
import type { Keypad } from '../../hal/keypad/types.js';
import type { MotorBoard } from '../../hal/motor-board/types.js';
import type { KioskConfig } from '../config.js';
import type { KioskDb } from '../db/open-db.js';
import type { HubLinkStatus } from '../link/hub-link.js';
import type { KioskLogger } from '../log.js';
import type { ReadyCheck } from '../slots/ready-again.js';
import type { SlotStore } from '../slots/slot-store.js';
import type { HubClock } from '../state/clock.js';
import type { Inbox } from '../state/inbox.js';
import type { Outbox } from '../state/outbox.js';
import type { UpdateLock } from '../update/update-lock.js';
import type { UpdateService } from '../update/update-service.js';

/** Progress of a long job, streamed to kioskctl (free-form numbers and a step name). */
export interface JobProgress {
  step: string;
  bytesDone?: number;
  bytesTotal?: number;
  filesDone?: number;
  filesTotal?: number;
  [key: string]: unknown;
}

export interface JobOptions {
  signal: AbortSignal;
  onProgress: (p: JobProgress) => void;
}

/**
 * Disk jobs of kiosk/cloning. Each resolves with a summary when done and rejects
 * with an error carrying a `code`; aborting `signal` cancels the job cleanly.
 */
export interface MaintenanceCloning {
  /** Prepares the disk in `slot` with content `contentId@version` (version: latest cached when omitted). */
  clone(
    slot: number,
    content: { contentId: string; version?: string },
    opts: JobOptions,
  ): Promise<unknown>;
  /** Re-reads the disk in `slot` and checks it against its manifest. */
  verify(slot: number, opts: JobOptions): Promise<unknown>;
  /** Wipes the disk in `slot` (`quick` or `full`). */
  wipe(slot: number, mode: 'quick' | 'full', opts: JobOptions): Promise<unknown>;
  /** The quick check of a prepared disk (identity, content) before a re-enabled slot is ready. */
  checkReady?: ReadyCheck;
}

/** One cached content package as `cache ls` shows it. */
export interface CachedContent {
  contentId: string;
  version: string;
  totalBytes: number;
  complete: boolean;
  pins: string[];
  lastUsedAt: string | null;
}

/** The content cache (kiosk/content). */
export interface MaintenanceContent {
  list(): Promise<CachedContent[]> | CachedContent[];
  /** Imports a package directory (e.g. a mounted USB stick). */
  importDir(dir: string, opts: JobOptions): Promise<{ contentId: string; version: string }>;
  /** Evicts every unpinned package not needed now; resolves with what was removed. */
  prune(): Promise<{ removed: Array<{ contentId: string; version: string }>; freedBytes: number }>;
}

/** The hub link as the server sees it. */
export interface MaintenanceLink {
  readonly status: HubLinkStatus;
}

export interface MaintenanceDeps {
  config: KioskConfig;
  db: KioskDb;
  slots: SlotStore;
  outbox: Outbox;
  inbox: Pick<Inbox, 'unfinished'>;
  clock: Pick<HubClock, 'now' | 'offset' | 'lastSync'>;
  hardware: { board: MotorBoard; gpio: Gpio; drives: Drives; keypad?: Keypad | undefined };
  link: MaintenanceLink;
  log: KioskLogger;
  /** kioskd's software version (package.json). */
  softwareVersion: string;
  /** Present when this build has the cloning pipeline; absent = "not available in this build". */
  cloning?: MaintenanceCloning;
  /** Present when this build has the content cache. */
  content?: MaintenanceContent;
  /** Default /etc/disk-kiosk/image-version. */
  imageVersionFile?: string;
  /** Software updates (kiosk/update); absent = "not available". */
  updates?: Pick<UpdateService, 'view' | 'installFile'>;
  /** Held by technician jobs (clone, wipe, eject, tests, ...); refuses them while an update runs. */
  updateLock?: Pick<UpdateLock, 'hold'>;
  /** Group given access to the socket when it exists. Default `kiosk-tech`. */
  socketGroup?: string;
  /** Default `config.maintenanceSocket`. */
  socketPath?: string;
}
