import type { SoldTerms } from './rental-settings-repo.js';
import type { Table } from './table.js';

export type RentalState = 'open' | 'returned' | 'overdue' | 'lost';
export interface RentalRecord extends SoldTerms {
  id: string;
  userId: string;
  orderId: string;
  diskId: string;
  diskTypeId: string;
  kioskId: string;
  startedAt: string;
  dueAt: string;
  returnedAt: string | null;
  returnKioskId: string | null;
  state: RentalState;
  overdueDaysCharged: number;
}

/** Disks out on rent, from the capture to their return (or loss). */
export interface RentalRepo extends Table<RentalRecord> {
  findByOrder(orderId: string): Promise<RentalRecord | undefined>;
  findUnreturnedByDisk(diskId: string): Promise<RentalRecord | undefined>;
  listByUser(userId: string): Promise<RentalRecord[]>;
  listByStates(states: readonly RentalState[]): Promise<RentalRecord[]>;
}
