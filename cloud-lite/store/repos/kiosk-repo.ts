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
}

/** The kiosk registry's rows: identity, secret hash, connection status, last Boot, last event seq. */
export interface KioskRepo {
  insert(k: { id: string; name: string; createdAt: string }): Promise<void>;
  get(id: string): Promise<KioskRecord | undefined>;
  list(): Promise<KioskRecord[]>;
  setSecretHash(id: string, hash: Buffer): Promise<void>;
  revoke(id: string, at: string): Promise<void>;
  setOnline(id: string, at: string): Promise<void>;
  setOffline(id: string, at: string): Promise<void>;
  /** Marks every kiosk offline (a single hub process starting). */
  setAllOffline(at: string): Promise<void>;
  touch(id: string, at: string): Promise<void>;
  recordBoot(
    id: string,
    b: {
      at: string;
      softwareVersion: string;
      imageVersion: string | null;
      slotCount: number;
      bootReason: string;
      databaseId?: string;
    },
  ): Promise<
    { databaseReplaced: false } | { databaseReplaced: true; previous: string; lastSeq: number }
  >;
  setLastSeq(id: string, seq: number): Promise<void>;
  countOnline(): Promise<number>;
}
