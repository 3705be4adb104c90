import type { Table } from './table.js';

export interface ContentRecord {
  id: string;
  title: string;
  version: string;
  sizeBytes: number;
  description: string;
}

/** The catalog's content packages. */
export interface ContentRepo extends Table<ContentRecord> {
  list(): Promise<ContentRecord[]>;
}
