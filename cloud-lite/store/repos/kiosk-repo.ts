export type KioskStatus = 'online' | 'offline';

export interface KioskRecord {
  id: string;
  name: string;
  createdAt: string;
  /** SHA-256 of the current secret; null until the first enrolment. */
  secretHash: Buffer | null;
  revokedAt: string | null;
  status: KioskStatus;
  lastSeenAt: string | null;
  connectedAt: string | null;
  softwareVersion: string | null;
  imageVersion: string | null;
  slotCount: number | null;
  lastBootAt: string | null;
  bootReason: string | null;
  /** Highest event seq recorded (0 before the first event). */
  lastSeq: number;
  /** The kiosk database's id from its last Boot (null before a kioskd that sends one). */
  databaseId: string | null;
  /**
   * When the kiosk's database was last replaced (a Boot with a new databaseId): seqs of events
   * received before then belong to the lost database. Null if it never was.
   */
  seqSince: string | null;
  /**
   * The hub process holding the kiosk's live socket (the session registry of several hub
   * processes; null when offline). The newest connection takes it.
   */
  hubProcess: string | null;
  /**
   * The protocol features its last Boot listed, as sent (unknown names included), or null when
   * that Boot listed none (a kioskd older than feature negotiation: the baseline features,
   * protocol/features.ts). The hub sends it no command or optional field of a feature not listed.
   */
  features: string[] | null;
}

/** What the alerts sweep reads of a kiosk (alerts/rules.ts): its name and connection facts. */
export type SweptKiosk = Pick<KioskRecord, 'id' | 'name' | 'status' | 'lastSeenAt' | 'hubProcess'>;

/** What recordBoot wrote and found (see there). */
export type BootRecorded =
  | { claimed: false }
  | {
      claimed: true;
      outstanding: boolean;
      databaseReplaced: false;
    }
  | {
      claimed: true;
      outstanding: boolean;
      databaseReplaced: true;
      /** The recorded databaseId, still in place. */
      previous: string;
    };

/** The kiosk registry's rows: identity, secret hash, connection status, last Boot, last event seq. */
export interface KioskRepo {
  insert(k: { id: string; name: string; createdAt: string }): Promise<void>;
  get(id: string): Promise<KioskRecord | undefined>;
  list(): Promise<KioskRecord[]>;
  /**
   * The kiosks that booted once and are not revoked (one never booted is still being set up),
   * by id, with only the fields the alerts sweep reads: a sweep of 10,000 kiosks builds no
   * full record (secret hash, features...) for each.
   */
  listBooted(): Promise<SweptKiosk[]>;
  setSecretHash(id: string, hash: Buffer): Promise<void>;
  revoke(id: string, at: string): Promise<void>;
  /**
   * Online since `at`, its socket held by hub process `hubProcess` (the newest connection wins).
   * Not applied (false) when another process holds it with a later connection: a write that
   * was delayed (a retried transaction) never undoes the newer connection's claim.
   */
  setOnline(id: string, at: string, hubProcess?: string | null): Promise<boolean>;
  /**
   * Offline since `at`. With `hubProcess`: only while that process still holds the kiosk (a
   * socket another process's newer connection replaced does not mark it offline) and, with
   * `connectedAt` (the closing socket's connection time), by a claim not newer than that
   * socket (a close recorded late never undoes the claim of the process's next connection of
   * the kiosk); returns whether the row changed.
   */
  setOffline(id: string, at: string, hubProcess?: string, connectedAt?: string): Promise<boolean>;
  /**
   * Claims again, for `hubProcess`, the kiosks whose live sockets it holds (each with its
   * connection's time), under setOnline's rule: not where another process holds a later
   * connection, nor a revoked kiosk. For a process whose claims were released while it was
   * alive (releaseDeadHolders did not see its cluster connection: it was being re-made).
   * lastSeenAt is left as it is. Returns the ids whose row changed (one statement).
   */
  reclaim(
    hubProcess: string,
    sessions: ReadonlyArray<{ id: string; connectedAt: string }>,
  ): Promise<string[]>;
  /** Marks every kiosk offline (a single hub process starting). */
  setAllOffline(at: string): Promise<void>;
  /**
   * Marks offline (since `at`) every online kiosk whose holder is a hub process that is gone,
   * killed without closing its sockets' rows; returns their ids. PostgreSQL: a process is
   * there while its cluster connection is (application_name `cloud-lite/<process id>`, see
   * cluster/pg-cluster.ts), read once per statement: a claim committed by a process whose
   * connection came back after that read can be released too (its holder re-claims it when
   * told: `reclaim`). `alive`: a process known to be there (the caller's own), never
   * released. SQLite has one process, which marks every kiosk offline when it starts:
   * nothing to release.
   */
  releaseDeadHolders(at: string, alive?: string): Promise<string[]>;
  /**
   * Heard from: each kiosk's lastSeenAt set to its `at`, only where that is later than the one
   * recorded (a Boot or a connection recorded meanwhile is never set back by an older
   * heartbeat). One statement for a whole batch of heartbeats (hub/touch-batch.ts).
   */
  touchMany(entries: ReadonlyArray<{ id: string; at: string }>): Promise<void>;
  /**
   * Records an accepted Boot in one statement: software, slots, reason, features, lastSeenAt,
   * the kiosk database's id when none was recorded yet and, with `claim`, the session
   * registry (online since `claim.connectedAt`, held by `claim.hubProcess`, under setOnline's
   * rule: nothing is written when another process holds a later connection, `claimed: false`).
   * `outstanding`: the kiosk has pending or sent commands (the caller re-sends them).
   * `databaseReplaced`: the Boot brought another databaseId than the recorded one, which is
   * left as it was: replaceDatabase() resets it (with the flag and audit, in one transaction).
   * A kiosk that does not exist: `claimed: false`.
   */
  recordBoot(
    id: string,
    b: {
      at: string;
      softwareVersion: string;
      imageVersion: string | null;
      slotCount: number;
      bootReason: string;
      databaseId?: string;
      /** Boot's `features`; absent or null: none listed (stored as null). */
      features?: readonly string[] | null;
      claim?: { connectedAt: string; hubProcess: string | null };
    },
  ): Promise<BootRecorded>;
  /**
   * The kiosk's database was replaced: databaseId set, lastSeq 0, seqSince `at`, only while the
   * recorded id is still `previous` (a concurrent Boot did it already: undefined). Returns the
   * lastSeq of the lost database.
   */
  replaceDatabase(
    id: string,
    r: { databaseId: string; previous: string; at: string },
  ): Promise<{ lastSeq: number } | undefined>;
  setLastSeq(id: string, seq: number): Promise<void>;
  countOnline(): Promise<number>;
}
