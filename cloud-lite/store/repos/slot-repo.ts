export interface SlotRecord {
  kioskId: string;
  slot: number;
  state: string;
  /** The slot snapshot exactly as the kiosk reported it (protocol SlotSnapshot). */
  snapshot: Record<string, unknown>;
  updatedAt: string;
}

/** The hub's copy of every kiosk's slots (hub/slot-view.ts keeps it in step). */
export interface SlotRepo {
  /** Replaces every slot of a kiosk with a fresh inventory. */
  replaceAll(kioskId: string, slots: SlotRecord[]): Promise<void>;
  list(kioskId: string): Promise<SlotRecord[]>;
  /**
   * The slots of every kiosk whose state is one of `states`, by kiosk and slot: one statement
   * for the whole fleet (the alerts sweep's slot faults and stock).
   */
  listInStates(states: readonly string[]): Promise<SlotRecord[]>;
  /** One slot of a kiosk, or undefined if the hub has never heard of it. */
  get(kioskId: string, slot: number): Promise<SlotRecord | undefined>;
  /** Inserts or replaces one slot (keyed by kioskId + slot). */
  upsert(slot: SlotRecord): Promise<void>;
}
