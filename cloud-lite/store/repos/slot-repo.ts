export interface SlotRecord {
  kioskId: string;
  slot: number;
  state: string;
  /** The slot snapshot exactly as the kiosk reported it (protocol SlotSnapshot). */
  snapshot: Record<string, unknown>;
  updatedAt: string;
}

/**
 * A ready slot as the stock rules read it (rental/catalog/preparable.ts): the fields of its
 * snapshot they use, null where the snapshot has none (a snapshot never holds null: the
 * protocol's schema has none).
 */
export interface StockSlot {
  kioskId: string;
  slot: number;
  diskId: string | null;
  contentVersion: string | null;
  capacityBytes: number | null;
  reservationId: string | null;
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
  /**
   * The `ready` slots of every kiosk whose snapshot holds content `contentId`, by kiosk and
   * slot, from just after `after` (a page's last; none: from the first), at most `limit`: only
   * the fields the stock rules read (the alerts sweep's zero-stock check, which stops at the
   * first slot that sells, so a stocked fleet costs it one page).
   */
  listReadyStock(
    contentId: string,
    limit: number,
    after?: Pick<StockSlot, 'kioskId' | 'slot'>,
  ): Promise<StockSlot[]>;
  /** One slot of a kiosk, or undefined if the hub has never heard of it. */
  get(kioskId: string, slot: number): Promise<SlotRecord | undefined>;
  /** Inserts or replaces one slot (keyed by kioskId + slot). */
  upsert(slot: SlotRecord): Promise<void>;
}
