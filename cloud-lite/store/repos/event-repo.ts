export interface EventRecord {
  eventId: string;
  kioskId: string;
  seq: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
  receivedAt: string;
}

/** Every kiosk event the hub recorded (hub/event-intake.ts). */
export interface EventRepo {
  /** Inserts the event; returns false (and writes nothing) when `eventId` is already recorded. */
  insertIfNew(e: EventRecord): Promise<boolean>;
  /** The recorded event with this id (of any kiosk), if any. */
  get(eventId: string): Promise<EventRecord | undefined>;
  /**
   * The recorded event of a kiosk with this seq, if any; with `since`, only among events
   * received at or after it (the kiosk's current database, KioskRecord.seqSince).
   */
  findBySeq(kioskId: string, seq: number, since?: string | null): Promise<EventRecord | undefined>;
  listForKiosk(kioskId: string, opts: { afterSeq?: number; limit: number }): Promise<EventRecord[]>;
  /**
   * Every kiosk's events of `type` received at or after `receivedSince`, among each kiosk's
   * newest `window` seqs (seq above its lastSeq less `window`, as `listForKiosk` with
   * `afterSeq: lastSeq - window` reads them), by kiosk and seq: one statement for the whole
   * fleet (the alerts sweep's repeated preparation failures).
   */
  recentOfType(
    type: string,
    opts: { receivedSince: string; window: number },
  ): Promise<EventRecord[]>;
  /** A kiosk's events of one type, the most recently received first. */
  latestOfType(kioskId: string, type: string, limit: number): Promise<EventRecord[]>;
}
