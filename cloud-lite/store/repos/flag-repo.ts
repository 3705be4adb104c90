export interface FlagRecord {
  id: number;
  kind: string;
  subject: string;
  message: string;
  createdAt: string;
  resolvedAt: string | null;
}

/** Problems raised for an operator (one open flag per kind and subject). */
export interface FlagRepo {
  /** Raises a flag (no-op when the same kind+subject is already open). */
  raise(kind: string, subject: string, message: string, at: string): Promise<void>;
  resolve(kind: string, subject: string, at: string): Promise<void>;
  listOpen(): Promise<FlagRecord[]>;
}
