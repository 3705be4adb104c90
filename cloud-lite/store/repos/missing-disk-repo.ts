/** A disk that left a kiosk slot with no order to bill: flagged for the operator until returned. */
export interface MissingDiskRecord {
  id: string;
  /** The DiskRemoved event that reported it (one record per event). */
  eventId: string;
  /** Null when the kiosk did not know which disk it was. */
  diskId: string | null;
  kioskId: string;
  slot: number;
  /** The slot's state when the disk went (`fault`, `ready`, ...). */
  slotState: string;
  reason: string;
  /** The service door when it went (open: a technician's removal); null: unknown. */
  door: 'open' | 'closed' | null;
  /** The last order at that slot, when there was one (ended failed, jammed, not taken...). */
  orderId: string | null;
  flaggedAt: string;
  clearedAt: string | null;
  /** What cleared it, e.g. `returned at k2`. */
  clearedBy: string | null;
}

export interface MissingDiskRepo {
  /** False (nothing written) when the event was already recorded. */
  insertIfNew(rec: MissingDiskRecord): Promise<boolean>;
  /** Open (not cleared) records, oldest first. */
  listOpen(limit: number): Promise<MissingDiskRecord[]>;
  /** Clears every open record of `diskId`; returns how many. */
  clearDisk(diskId: string, at: string, by: string): Promise<number>;
}
