import type { Table } from './table.js';

export type WriteProtectPolicy = 'allowed' | 'forced' | 'off';
export interface DiskTypeRecord {
  id: string;
  capacityBytes: number;
  contentId: string;
  writeProtect: WriteProtectPolicy;
  pricePerDayMinor: number;
  currency: string;
  defaultDays: number;
  maxDays: number;
  /** Kiosks offering this type; null: every kiosk. */
  kioskIds: string[] | null;
}

/** The catalog's disk types. */
export interface DiskTypeRepo extends Table<DiskTypeRecord> {
  list(): Promise<DiskTypeRecord[]>;
}
